import{createRequire as __connCheckRequire}from'node:module';const require=__connCheckRequire(import.meta.url);
import{a as e,c as t}from"./chunk-W7LNJYA4.js";import"./chunk-VROXILAB.js";e();t();import("./run-XWQSJJLJ.js").then(({run:o})=>o()).then(()=>{process.stdout.write("",()=>setTimeout(()=>process.exit(),100).unref())});
