
import{a,b,c}from"./chunk-CWCSGEHZ.js";import"./chunk-SY3O7MAJ.js";import"./chunk-IADTNH7X.js";import"./chunk-MUJP27IL.js";export{c as dns,a as parseServer,b as serverOption};
