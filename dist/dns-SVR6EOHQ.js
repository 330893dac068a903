import{dns,parseServer,serverOption}from"./chunk-IQXXUDZK.js";import"./chunk-VTVWAVQJ.js";import"./chunk-SQEKME62.js";export{dns,parseServer,serverOption};
