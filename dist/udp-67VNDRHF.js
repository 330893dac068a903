import{createRequire as __connCheckRequire}from'node:module';const require=__connCheckRequire(import.meta.url);
import{a,b}from"./chunk-XQ3GP2L3.js";import"./chunk-DY47OH4D.js";import"./chunk-3WUU7J6N.js";import"./chunk-IXTH72VB.js";import"./chunk-VROXILAB.js";export{a as printable,b as udp};
