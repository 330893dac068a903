import{createRequire as __connCheckRequire}from'node:module';const require=__connCheckRequire(import.meta.url);
import{a,b}from"./chunk-EJKKYR7H.js";import"./chunk-2QCWGT4T.js";import"./chunk-ASSNQHKO.js";import"./chunk-YV7WILVN.js";import"./chunk-AAEXEXFR.js";import"./chunk-7PVP6ZO5.js";import"./chunk-VROXILAB.js";export{b as eachAddress,a as tls};
