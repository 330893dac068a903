
import{a as i}from"./chunk-MUJP27IL.js";function n(t,f=60){let e="";for(let r of t.subarray(0,f))r===92?e+="\\\\":r===10?e+="\\n":r===13?e+="\\r":r===9?e+="\\t":r>=32&&r<127?e+=String.fromCharCode(r):e+=`\\x${r.toString(16).padStart(2,"0")}`;return t.length>f?`${e}...`:e}i(n,"printable");export{n as a};
