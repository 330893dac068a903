import{dns,parseServer,serverOption}from"./chunk-HVZOUSFM.js";import"./chunk-2E4MWMEL.js";import"./chunk-SQEKME62.js";export{dns,parseServer,serverOption};
