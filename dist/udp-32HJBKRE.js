import{createRequire as __connCheckRequire}from'node:module';const require=__connCheckRequire(import.meta.url);
import{a,b}from"./chunk-ECF4YIZQ.js";import"./chunk-TLF263D7.js";import"./chunk-3WUU7J6N.js";import"./chunk-D6ACSYL5.js";import"./chunk-Y6FHBFWN.js";import"./chunk-VROXILAB.js";export{a as printable,b as udp};
