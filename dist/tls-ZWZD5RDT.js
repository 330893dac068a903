import{createRequire as __connCheckRequire}from'node:module';const require=__connCheckRequire(import.meta.url);
import{a,b}from"./chunk-DKVBF7MN.js";import"./chunk-CORXNMOA.js";import"./chunk-D6ACSYL5.js";import"./chunk-FKUVCMP3.js";import"./chunk-MX65OY3D.js";import"./chunk-VROXILAB.js";export{b as eachAddress,a as tls};
