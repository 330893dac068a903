import{createRequire as __connCheckRequire}from'node:module';const require=__connCheckRequire(import.meta.url);
import{a,b}from"./chunk-26FBKXIT.js";import"./chunk-CATDZFWR.js";import"./chunk-GDCHSZML.js";import"./chunk-MX65OY3D.js";import"./chunk-D6ACSYL5.js";import"./chunk-B66JCPKM.js";import"./chunk-VROXILAB.js";export{b as eachAddress,a as tls};
