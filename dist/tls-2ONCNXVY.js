
import{a as b}from"./chunk-FFB7ON6E.js";import{d as a}from"./chunk-XZLV35FI.js";import"./chunk-KAGMDVRV.js";import"./chunk-QMZATYHA.js";import"./chunk-CAH5HMVG.js";import"./chunk-DUBUODPY.js";import"./chunk-LYPKGOE3.js";import"./chunk-4MS3HLUY.js";import"./chunk-PGV2TXGE.js";import"./chunk-MUJP27IL.js";export{a as eachAddress,b as tls};
