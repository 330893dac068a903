
import{a as e,d as t}from"./chunk-IADTNH7X.js";import"./chunk-MUJP27IL.js";e();t();import("./run-FZCBD5R4.js").then(({run:o})=>o()).then(()=>{process.stdout.write("",()=>setTimeout(()=>process.exit(),100).unref())});
