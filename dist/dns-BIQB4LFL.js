import{dns,parseServer,serverOption}from"./chunk-PY2DK3BY.js";import"./chunk-5MRFSZCO.js";import"./chunk-SQEKME62.js";export{dns,parseServer,serverOption};
