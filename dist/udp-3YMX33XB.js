import{createRequire as __connCheckRequire}from'node:module';const require=__connCheckRequire(import.meta.url);
import{a,b}from"./chunk-63CV3J7S.js";import"./chunk-YV7WILVN.js";import"./chunk-AAEXEXFR.js";import"./chunk-7PVP6ZO5.js";import"./chunk-VROXILAB.js";export{a as printable,b as udp};
