
import{a as o,c as s,d as t}from"../chunk-IADTNH7X.js";import"../chunk-MUJP27IL.js";o();t();var c=s();import("../main-BEGEMGYM.js").then(async({main:i,processIo:r})=>{let e=await i(process.argv.slice(2),r(c.signal));process.exitCode=e,c.dispose(),process.stdout.write("",()=>setTimeout(()=>process.exit(e),100).unref())});
