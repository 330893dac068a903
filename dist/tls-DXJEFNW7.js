import{createRequire as __connCheckRequire}from'node:module';const require=__connCheckRequire(import.meta.url);
import{a,b}from"./chunk-5ZOYWIF3.js";import"./chunk-2QCWGT4T.js";import"./chunk-D6QL75Q3.js";import"./chunk-WP4IZTCL.js";import"./chunk-AAEXEXFR.js";import"./chunk-A67XUTYE.js";import"./chunk-VROXILAB.js";export{b as eachAddress,a as tls};
