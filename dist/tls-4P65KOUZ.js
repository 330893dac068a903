import{createRequire as __connCheckRequire}from'node:module';const require=__connCheckRequire(import.meta.url);
import{a,b}from"./chunk-73UOQXKO.js";import"./chunk-AWFZU2SW.js";import"./chunk-D6ACSYL5.js";import"./chunk-SM52JUK2.js";import"./chunk-MX65OY3D.js";import"./chunk-VROXILAB.js";export{b as eachAddress,a as tls};
