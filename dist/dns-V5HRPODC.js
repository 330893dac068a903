import{dns,parseServer,serverOption}from"./chunk-VWZO2Y2Z.js";import"./chunk-GQA57AQB.js";import"./chunk-SQEKME62.js";export{dns,parseServer,serverOption};
