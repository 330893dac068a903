
import{a,b,c}from"./chunk-DJ7WS4ZO.js";import"./chunk-7NS3T3QK.js";import"./chunk-LXGCGOQ3.js";import"./chunk-MUJP27IL.js";export{c as dns,a as parseServer,b as serverOption};
