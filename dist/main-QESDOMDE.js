import{createRequire as __connCheckRequire}from'node:module';const require=__connCheckRequire(import.meta.url);
import{a as B,b as T,c as V,d as q,e as z,f as v,g as w,h as H,i as X,j as b,k as Q,l as O,n as Z,p as ee,r as M,s as te}from"./chunk-GZW7BXO3.js";import{a as N,b as G}from"./chunk-YWT57IE5.js";import"./chunk-Y74YQS3U.js";import{a as Y}from"./chunk-AWFZU2SW.js";import"./chunk-D6ACSYL5.js";import"./chunk-SM52JUK2.js";import{a as D,d as p,e as C,f as E,g as K}from"./chunk-MX65OY3D.js";import{a}from"./chunk-VROXILAB.js";import{readFileSync as ae,writeFileSync as ce}from"node:fs";import{parseArgs as ue}from"node:util";function f(r){return r.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g,"").replace(/[&<>"']/g,t=>({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&apos;"})[t])}a(f,"xml");var R=a(r=>(r/1e3).toFixed(3),"secs");function ne(r,t){let i=new Map;for(let u of r)i.set(u.file,[...i.get(u.file)??[],u]);let s=a(u=>({tests:u.length,failures:u.filter(c=>c.status==="failed").length,skipped:u.filter(c=>c.status==="skipped").length,time:R(u.reduce((c,m)=>c+m.duration_ms,0))}),"count"),e=s(r),n=['<?xml version="1.0" encoding="UTF-8"?>',`<testsuites name="conn-check" tests="${e.tests}" failures="${e.failures}" errors="0" skipped="${e.skipped}" time="${R(t)}">`];for(let[u,c]of i){let m=s(c);n.push(`  <testsuite name="${f(u)}" tests="${m.tests}" failures="${m.failures}" errors="0" skipped="${m.skipped}" time="${m.time}">`);for(let o of c){let y=`    <testcase name="${f(o.name)}" classname="conn-check.${f(o.type)}" file="${f(o.file)}" line="${o.line}" time="${R(o.duration_ms)}"`;if(o.status==="passed")n.push(o.details?.length||o.attempts?`${y}>
      <system-out>${f([...o.details??[],...o.attempts?[`passed on attempt ${o.attempts}`]:[]].join(`
`))}</system-out>
    </testcase>`:`${y}/>`);else if(o.status==="skipped")n.push(`${y}>
      <skipped message="${f(o.error??"skipped")}"/>
    </testcase>`);else{let h=b(o)+(o.attempts?` (after ${o.attempts} attempts)`:"");n.push(`${y}>
      <failure message="${f(h)}" type="${v(o)?"warning":f(o.step??"failed")}">${f(`${o.name} target=${o.target}
${h}`)}</failure>
    </testcase>`)}}n.push("  </testsuite>")}return n.push("</testsuites>"),n.join(`
`)+`
`}a(ne,"renderJunit");function j(r){return r.replace(/\\/g,"\\\\").replace(/\|/g,"\\|").replace(/[\r\n]+/g," ").replace(/([<>*_`[\]])/g,"\\$1")}a(j,"cell");function se(r,t){let i=a(e=>e.status==="passed"?"\u2705":e.status==="skipped"?"\u23ED\uFE0F":v(e)?"\u26A0\uFE0F":"\u274C","icon"),s=w(r).map(e=>{let n=e.status==="failed"?b(e):e.status==="skipped"?e.error??"":(e.details??[]).join("; ");return e.tls_verification==="disabled"&&(n=`\u{1F513} TLS not verified${n?`; ${n}`:""}`),e.attempts&&(n+=e.status==="passed"?` (passed on attempt ${e.attempts})`:` (after ${e.attempts} attempts)`),`| ${i(e)} | ${j(e.name)} | ${j(e.target)} | ${e.status==="skipped"?"":H(e.duration_ms)} | ${j(n)} |`});return["## conn-check","",`**${ee(r,t)}**`,"","| | Check | Target | Time | Details |","| --- | --- | --- | --- | --- |",...s,""].join(`
`)}a(se,"renderMarkdown");function ie(r){if(r.definition.egress)return r.definition.egress(r.options);let{host:t,port:i}=r.options;return typeof t=="string"&&!t.startsWith("/")&&typeof i=="number"?[{protocol:"tcp",host:t,port:i}]:[]}a(ie,"egressOf");async function re(r){let{stringify:t}=await import("./yaml-DRSPOOK2.js"),i=new Map;for(let e of r)for(let n of ie(e)){let u=`${n.protocol} ${n.host} ${n.port}`,c=i.get(u)??{...n,checks:[]};c.checks.includes(e.name)||c.checks.push(e.name),i.set(u,c)}let s=[...i.values()].sort((e,n)=>e.host.localeCompare(n.host)||e.port-n.port||e.protocol.localeCompare(n.protocol));return t({egress:s.map(e=>({protocol:e.protocol,host:e.host,port:e.port,checks:e.checks}))})}a(re,"renderEgress");var oe=["text","json","junit","markdown"],de=`Usage: conn-check [options] CONFIG [PATTERN ...]

Checks that every service listed in CONFIG (a conn-check YAML file, or - for
standard input) can be reached, and that its credentials work.
PATTERNs (shell-style, * and ?) select checks by name; a check runs if any matches.

Options:
  -v, --verbose            print each check as it starts, and its details
  -d, --duration           print how long each check took
  -t, --tracebacks         print internal error details (never secrets)
  -U, --unbuffered-output  print results as they arrive instead of ordered
      --validate           only validate the config file
      --dry-run            print what would run, as SKIPPED, and run nothing
      --connect-timeout S  timeout of checks that set none (default ${C})
      --max-timeout S      stop everything after S seconds
      --wait S             re-run failed checks until all pass or S seconds have passed
      --include-tags A,B   run only checks with any of these tags
      --exclude-tags A,B   skip checks with any of these tags
      --concurrency N      most checks in flight at once (default ${K})
      --tls-certs-path P   extra CA certificates: a PEM file or a directory of them
      --format F           output: text (default), json, junit or markdown
      --output FILE        write the report to FILE (text still goes to stdout)
      --egress             print the firewall rules the config needs (YAML), run nothing
      --version            print the version
  -h, --help               print this help

Exit status: 0 all passed, 1 only checks with severity warning failed,
2 a check failed, 3 bad arguments or invalid config.
Check types: ${B().map(r=>r.type).join(", ")}
`,l=class extends Error{static{a(this,"UsageError")}};function A(r,t){if(t===void 0)return;let i=Number(t);if(!Number.isFinite(i)||i<=0||i>E)throw new l(`--${r}: expected a number of seconds > 0 and <= ${E}, got ${JSON.stringify(t)}`);return i}a(A,"seconds");async function _e(r,t){let i;try{i=ue({args:r,allowPositionals:!0,strict:!0,options:{verbose:{type:"boolean",short:"v"},duration:{type:"boolean",short:"d"},tracebacks:{type:"boolean",short:"t"},"unbuffered-output":{type:"boolean",short:"U"},validate:{type:"boolean"},"dry-run":{type:"boolean"},egress:{type:"boolean"},wait:{type:"string"},output:{type:"string"},version:{type:"boolean"},help:{type:"boolean",short:"h"},"tls-certs-path":{type:"string"},"max-timeout":{type:"string"},"connect-timeout":{type:"string"},"include-tags":{type:"string"},"exclude-tags":{type:"string"},concurrency:{type:"string"},format:{type:"string"}}})}catch(n){return t.stderr(`conn-check: ${n.message}
Try 'conn-check --help'.
`),p.Unknown}let s=i.values;if(s.help)return t.stdout(de),p.Ok;if(s.version)return t.stdout(`conn-check ${D}
`),p.Ok;let e=new T;try{let[n,...u]=i.positionals;if(!n)throw new l("no CONFIG file given");let c=s.format??"text";if(!oe.includes(c))throw new l(`--format: expected one of ${oe.join(", ")}, got ${JSON.stringify(c)}`);let m=A("connect-timeout",s["connect-timeout"])??C,o=A("max-timeout",s["max-timeout"]),y=A("wait",s.wait),h;if(s.concurrency!==void 0&&(h=Number(s.concurrency),!Number.isInteger(h)||h<1))throw new l(`--concurrency: expected a whole number >= 1, got ${JSON.stringify(s.concurrency)}`);let F=M(s["include-tags"]),I=M(s["exclude-tags"]);if(F.length&&I.length)throw new l("--include-tags and --exclude-tags cannot be used together");let U=[];if(s["tls-certs-path"])try{U=await Y(s["tls-certs-path"])}catch(d){throw new l(d.message.replace(/^tls-certs-path/,"--tls-certs-path"))}let g;try{g=await V(n==="-"?{stdin:t.readStdin(),env:t.env}:{paths:[n],base:t.cwd,env:t.env})}catch(d){if(!(d instanceof G))throw d;t.stderr(d.issues.map(S=>`${N(S)}
`).join(""));let W=d.issues.filter(S=>S.severity==="error").length;return t.stderr(`UNKNOWN: invalid config (${W} problem${W===1?"":"s"})
`),p.Unknown}e=new T(q(g.checks));for(let d of g.warnings)t.stderr(e.redact(N(d))+`
`);if(s.egress)return t.stdout(e.redact(await re(g.checks))),p.Ok;if(s.validate)return t.stdout(`OK: the config is valid (${g.checks.length} check${g.checks.length===1?"":"s"})
`),p.Ok;let P=c==="text"||s.output!==void 0,_=P&&!!s["unbuffered-output"],x={durations:!!s.duration,verbose:!!s.verbose},$=await te(g.checks,{connectTimeoutS:m,maxTimeoutS:o,waitS:y,concurrency:h,extraCa:U,env:t.env,selection:{includeTags:F,excludeTags:I,patterns:u},dryRun:!!s["dry-run"],signal:t.signal,onStart:s.verbose&&P?d=>t.stderr(e.redact(`Starting ${d.name} (${d.target})...
`)):void 0,onResult:_?d=>t.stdout(e.redact(X(d,x))+`
`):void 0}),k=e.redactDeep($.results),L=c==="json"?Z(k):c==="junit"?ne(k,$.durationMs):c==="markdown"?se(k,$.durationMs):O(w(k),$.durationMs,x);if(s.output!==void 0)try{ce(s.output,e.redact(L))}catch(d){throw new l(`--output ${s.output}: cannot write (${d.code??"error"})`)}_?t.stdout(e.redact(Q(k,$.durationMs))+`
`):s.output!==void 0?t.stdout(e.redact(O(w(k),$.durationMs,x))):t.stdout(e.redact(L));let J=z(k,0);return J.failed?p.Critical:J.warnings?p.Warning:p.Ok}catch(n){if(n instanceof l)return t.stderr(`conn-check: ${e.redact(n.message)}
Try 'conn-check --help'.
`),p.Unknown;let u=s.tracebacks?n?.stack??String(n):n?.message??String(n);return t.stderr(`UNKNOWN: conn-check failed unexpectedly: ${e.redact(u)}
`),p.Unknown}}a(_e,"main");function Le(r){return{stdout:a(t=>process.stdout.write(t),"stdout"),stderr:a(t=>process.stderr.write(t),"stderr"),readStdin:a(()=>ae(0),"readStdin"),env:process.env,cwd:process.cwd(),signal:r}}a(Le,"processIo");export{de as HELP,_e as main,Le as processIo};
