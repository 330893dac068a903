
import{a,b,c}from"./chunk-W3CKB7GL.js";import"./chunk-ETV6HNPA.js";import"./chunk-LXGCGOQ3.js";import"./chunk-MUJP27IL.js";export{c as dns,a as parseServer,b as serverOption};
