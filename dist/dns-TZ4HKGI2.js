import{dns,parseServer,serverOption}from"./chunk-KWXTWXAW.js";import"./chunk-QPM3RSFV.js";import"./chunk-SQEKME62.js";export{dns,parseServer,serverOption};
