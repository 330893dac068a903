
import{a,b,c}from"./chunk-PIK74VJI.js";import"./chunk-R7BH2AKY.js";import"./chunk-IADTNH7X.js";import"./chunk-MUJP27IL.js";export{c as dns,a as parseServer,b as serverOption};
