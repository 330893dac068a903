
import{a,b,c}from"./chunk-ZM2S64HJ.js";import"./chunk-AQPV3PK5.js";import"./chunk-IADTNH7X.js";import"./chunk-MUJP27IL.js";export{c as dns,a as parseServer,b as serverOption};
