import{dns,parseServer,serverOption}from"./chunk-XWZHBVFR.js";import"./chunk-SPIUXBDV.js";import"./chunk-SQEKME62.js";export{dns,parseServer,serverOption};
