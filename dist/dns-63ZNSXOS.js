
import{a,b,c}from"./chunk-FTZQHR3S.js";import"./chunk-VWKFBUY2.js";import"./chunk-IADTNH7X.js";import"./chunk-MUJP27IL.js";export{c as dns,a as parseServer,b as serverOption};
