
import{a,b,c}from"./chunk-XNJVRZWT.js";import"./chunk-G5HQM5H3.js";import"./chunk-IADTNH7X.js";import"./chunk-MUJP27IL.js";export{c as dns,a as parseServer,b as serverOption};
