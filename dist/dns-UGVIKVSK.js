import{dns,parseServer,serverOption}from"./chunk-Z2SIOCOW.js";import"./chunk-GXLCQLRO.js";import"./chunk-SQEKME62.js";export{dns,parseServer,serverOption};
