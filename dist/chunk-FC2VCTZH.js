
import{a as i}from"./chunk-MUJP27IL.js";function a(e){let r=e.file;e.line!==void 0&&(r+=`:${e.line}`),e.line!==void 0&&e.column!==void 0&&(r+=`:${e.column}`);let n=[r];return e.check&&n.push(e.check),e.option&&n.push(e.option),n.push(e.message),(e.severity==="warning"?"warning: ":"")+n.join(": ")}i(a,"formatIssue");var l=class extends Error{constructor(n,c=new Set){let t=n.filter(o=>o.severity==="error");super(`${t.length} problem${t.length===1?"":"s"} in the configuration:
`+t.map(o=>`  ${a(o)}`).join(`
`));this.issues=n;this.secrets=c;this.name="ConfigError"}issues;secrets;static{i(this,"ConfigError")}};export{a,l as b};
