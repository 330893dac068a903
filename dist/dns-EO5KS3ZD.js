import{dns,parseServer,serverOption}from"./chunk-CQMPEWPG.js";import"./chunk-MUNJ5TXD.js";import"./chunk-SQEKME62.js";export{dns,parseServer,serverOption};
