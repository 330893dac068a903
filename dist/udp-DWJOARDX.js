import{createRequire as __connCheckRequire}from'node:module';const require=__connCheckRequire(import.meta.url);
import{a,b}from"./chunk-7FUWXOCK.js";import"./chunk-WP4IZTCL.js";import"./chunk-AAEXEXFR.js";import"./chunk-A67XUTYE.js";import"./chunk-VROXILAB.js";export{a as printable,b as udp};
