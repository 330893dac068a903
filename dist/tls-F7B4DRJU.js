import{createRequire as __connCheckRequire}from'node:module';const require=__connCheckRequire(import.meta.url);
import{a,b}from"./chunk-JOLX2BT5.js";import"./chunk-2QCWGT4T.js";import"./chunk-3KZP6H6X.js";import"./chunk-TLF263D7.js";import"./chunk-3WUU7J6N.js";import"./chunk-D6ACSYL5.js";import"./chunk-Y6FHBFWN.js";import"./chunk-VROXILAB.js";export{b as eachAddress,a as tls};
