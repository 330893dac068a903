
import{a,b,c}from"./chunk-Q25GQQNX.js";import"./chunk-2GBLM2JE.js";import"./chunk-LXGCGOQ3.js";import"./chunk-MUJP27IL.js";export{c as dns,a as parseServer,b as serverOption};
