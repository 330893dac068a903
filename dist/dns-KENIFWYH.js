
import{a,b,c}from"./chunk-D3DQCJYJ.js";import"./chunk-F5WAQNDY.js";import"./chunk-IADTNH7X.js";import"./chunk-MUJP27IL.js";export{c as dns,a as parseServer,b as serverOption};
