import{dns,parseServer,serverOption}from"./chunk-26H23JFJ.js";import"./chunk-VXBXFBM6.js";import"./chunk-SQEKME62.js";export{dns,parseServer,serverOption};
