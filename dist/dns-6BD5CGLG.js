import{dns,parseServer,serverOption}from"./chunk-AZYIGWMV.js";import"./chunk-7PFVWWXJ.js";import"./chunk-SQEKME62.js";export{dns,parseServer,serverOption};
