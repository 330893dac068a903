
import{a,b,c}from"./chunk-TIGD5RLE.js";import"./chunk-ZEYUIDAK.js";import"./chunk-IADTNH7X.js";import"./chunk-MUJP27IL.js";export{c as dns,a as parseServer,b as serverOption};
