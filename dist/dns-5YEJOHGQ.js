
import{a,b,c}from"./chunk-PNQTDTEP.js";import"./chunk-XZLV35FI.js";import"./chunk-KAGMDVRV.js";import"./chunk-QMZATYHA.js";import"./chunk-CAH5HMVG.js";import"./chunk-DUBUODPY.js";import"./chunk-LYPKGOE3.js";import"./chunk-4MS3HLUY.js";import"./chunk-PGV2TXGE.js";import"./chunk-MUJP27IL.js";export{c as dns,a as parseServer,b as serverOption};
