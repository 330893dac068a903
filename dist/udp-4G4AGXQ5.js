import{createRequire as __connCheckRequire}from'node:module';const require=__connCheckRequire(import.meta.url);
import{a,b}from"./chunk-DFNFSIPV.js";import"./chunk-YMTAXM3I.js";import"./chunk-QLCGMVSC.js";import"./chunk-IXTH72VB.js";import"./chunk-VROXILAB.js";export{a as printable,b as udp};
