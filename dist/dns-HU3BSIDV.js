import{dns,parseServer,serverOption}from"./chunk-VL2IIYUW.js";import"./chunk-ZC4FPIZH.js";import"./chunk-SQEKME62.js";export{dns,parseServer,serverOption};
