import{dns,parseServer,serverOption}from"./chunk-JCX4UEU3.js";import"./chunk-WOYSRQVF.js";import"./chunk-SQEKME62.js";export{dns,parseServer,serverOption};
