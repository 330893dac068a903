
import{a as e,c as t}from"./chunk-USQ2NIMZ.js";import"./chunk-MUJP27IL.js";e();t();import("./run-KIO7RWXO.js").then(({run:o})=>o()).then(()=>{process.stdout.write("",()=>setTimeout(()=>process.exit(),100).unref())});
