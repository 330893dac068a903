
import{a as e,b as o,d as t}from"./chunk-UT3YPLID.js";import"./chunk-MUJP27IL.js";e();o();t();import("./run-J4Y3FLJ2.js").then(({run:r})=>r()).then(()=>{process.stdout.write("",()=>setTimeout(()=>process.exit(),100).unref())});
