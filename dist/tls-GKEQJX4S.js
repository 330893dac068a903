import{createRequire as __connCheckRequire}from'node:module';const require=__connCheckRequire(import.meta.url);
import{a,b}from"./chunk-MPBE7FHI.js";import"./chunk-2QCWGT4T.js";import"./chunk-4KEJLNTE.js";import"./chunk-DY47OH4D.js";import"./chunk-3WUU7J6N.js";import"./chunk-IXTH72VB.js";import"./chunk-VROXILAB.js";export{b as eachAddress,a as tls};
