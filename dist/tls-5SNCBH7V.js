import{createRequire as __connCheckRequire}from'node:module';const require=__connCheckRequire(import.meta.url);
import{a,b}from"./chunk-MIVXGXVB.js";import"./chunk-2QCWGT4T.js";import"./chunk-4KEJLNTE.js";import"./chunk-YMTAXM3I.js";import"./chunk-QLCGMVSC.js";import"./chunk-IXTH72VB.js";import"./chunk-VROXILAB.js";export{b as eachAddress,a as tls};
