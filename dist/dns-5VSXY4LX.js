import{dns,parseServer,serverOption}from"./chunk-RKCCBAS5.js";import"./chunk-2NJOUIWQ.js";import"./chunk-SQEKME62.js";export{dns,parseServer,serverOption};
