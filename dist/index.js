import{createRequire as __connCheckRequire}from'node:module';const require=__connCheckRequire(import.meta.url);
import{a as e,c as o}from"./chunk-W7LNJYA4.js";import"./chunk-VROXILAB.js";e();o();import("./run-W5O7CCVS.js").then(({run:i})=>i());
