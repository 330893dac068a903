
import{a as o,b as s,c as t,d as i}from"../chunk-UT3YPLID.js";import"../chunk-MUJP27IL.js";o();s();i();var c=t();import("../main-DETC2WNY.js").then(async({main:n,processIo:a})=>{let e=await n(process.argv.slice(2),a(c.signal));process.exitCode=e,c.dispose(),process.stdout.write("",()=>setTimeout(()=>process.exit(e),100).unref())});
