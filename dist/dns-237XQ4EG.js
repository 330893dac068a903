
import{a,b,c}from"./chunk-Y6AWBRLO.js";import"./chunk-PPB2GXWG.js";import"./chunk-ZTFP6GWP.js";import"./chunk-JN4SUM2A.js";import"./chunk-7OJFVUPJ.js";import"./chunk-OWFK76ON.js";import"./chunk-O2Y6QSU3.js";import"./chunk-KUPSEJ75.js";import"./chunk-MUJP27IL.js";export{c as dns,a as parseServer,b as serverOption};
