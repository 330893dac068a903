
import{a as o,b as s,c as t}from"../chunk-USQ2NIMZ.js";import"../chunk-MUJP27IL.js";o();t();var c=s();import("../main-2VSNPHF3.js").then(async({main:i,processIo:r})=>{let e=await i(process.argv.slice(2),r(c.signal));process.exitCode=e,c.dispose(),process.stdout.write("",()=>setTimeout(()=>process.exit(e),100).unref())});
