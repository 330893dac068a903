
import{a as e,d as t}from"./chunk-LXGCGOQ3.js";import"./chunk-MUJP27IL.js";e();t();import("./run-APR5INMD.js").then(({run:o})=>o()).then(()=>{process.stdout.write("",()=>setTimeout(()=>process.exit(),100).unref())});
