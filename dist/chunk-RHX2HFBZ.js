import{createRequire as __connCheckRequire}from'node:module';const require=__connCheckRequire(import.meta.url);
import{a as i}from"./chunk-VROXILAB.js";function c(n){let r=n.file;n.line!==void 0&&(r+=`:${n.line}`),n.line!==void 0&&n.column!==void 0&&(r+=`:${n.column}`);let e=[r];return n.check&&e.push(n.check),n.option&&e.push(n.option),e.push(n.message),(n.severity==="warning"?"warning: ":"")+e.join(": ")}i(c,"formatIssue");var l=class extends Error{constructor(e){let t=e.filter(o=>o.severity==="error");super(`${t.length} problem${t.length===1?"":"s"} in the configuration:
`+t.map(o=>`  ${c(o)}`).join(`
`));this.issues=e;this.name="ConfigError"}issues;static{i(this,"ConfigError")}};export{c as a,l as b};
