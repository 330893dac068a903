
import{a,b,c}from"./chunk-LWQNASNT.js";import"./chunk-4GX2WIM4.js";import"./chunk-IADTNH7X.js";import"./chunk-MUJP27IL.js";export{c as dns,a as parseServer,b as serverOption};
