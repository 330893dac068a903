import{createRequire as __connCheckRequire}from'node:module';const require=__connCheckRequire(import.meta.url);
import{a as Q,b as Z,c as P,d as ee,e as te,f as ne,g as E,h as S,i as re,j as se,k as N,l as oe,m as U,o as ie,q as ce,s as _,t as ae,u as j,v as ue}from"./chunk-XP6F3D2A.js";import{a as A,b as H}from"./chunk-RHX2HFBZ.js";import"./chunk-Y74YQS3U.js";import{a as X}from"./chunk-CATDZFWR.js";import"./chunk-GDCHSZML.js";import{a as Y,d as p,e as R,f as I,g as q}from"./chunk-MX65OY3D.js";import"./chunk-D6ACSYL5.js";import"./chunk-B66JCPKM.js";import{a as i}from"./chunk-VROXILAB.js";import{existsSync as Ee,readFileSync as Ne}from"node:fs";import{parseArgs as Oe}from"node:util";function l(s){return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g,"").replace(/[&<>"']/g,e=>({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&apos;"})[e])}i(l,"xml");var M=i(s=>(s/1e3).toFixed(3),"secs");function de(s,e){let o=new Map;for(let d of s)o.set(d.file,[...o.get(d.file)??[],d]);let n=i(d=>({tests:d.length,failures:d.filter(c=>c.status==="failed").length,skipped:d.filter(c=>c.status==="skipped").length,time:M(Math.min(e,d.reduce((c,m)=>c+m.duration_ms,0)))}),"count"),t=n(s),r=['<?xml version="1.0" encoding="UTF-8"?>',`<testsuites name="conn-check" tests="${t.tests}" failures="${t.failures}" errors="0" skipped="${t.skipped}" time="${M(e)}">`];for(let[d,c]of o){let m=n(c);r.push(`  <testsuite name="${l(d)}" tests="${m.tests}" failures="${m.failures}" errors="0" skipped="${m.skipped}" time="${m.time}">`);for(let a of c){let k=`    <testcase name="${l(a.name)}" classname="conn-check.${l(a.type)}" file="${l(a.file)}" line="${a.line}" time="${M(a.duration_ms)}"`;if(a.status==="passed")r.push(a.details?.length||a.attempts?`${k}>
      <system-out>${l([...a.details??[],...a.attempts?[`passed on attempt ${a.attempts}`]:[]].join(`
`))}</system-out>
    </testcase>`:`${k}/>`);else if(a.status==="skipped")r.push(`${k}>
      <skipped message="${l(a.error??"skipped")}"/>
    </testcase>`);else{let g=N(a)+(a.attempts?` (after ${a.attempts} attempts)`:"");r.push(`${k}>
      <failure message="${l(g)}" type="${E(a)?"warning":l(a.step??"failed")}">${l(`${a.name} target=${a.target}
${g}`)}</failure>
    </testcase>`)}}r.push("  </testsuite>")}return r.push("</testsuites>"),r.join(`
`)+`
`}i(de,"renderJunit");function F(s){return s.replace(/\\/g,"\\\\").replace(/\|/g,"\\|").replace(/[\r\n]+/g," ").replace(/([<>*_`[\]])/g,"\\$1")}i(F,"cell");function pe(s,e){let o=i(t=>t.status==="passed"?"\u2705":t.status==="skipped"?"\u23ED\uFE0F":E(t)?"\u26A0\uFE0F":"\u274C","icon"),n=S(s).map(t=>{let r=t.status==="failed"?N(t):t.status==="skipped"?t.error??"":(t.details??[]).join("; ");return t.tls_verification==="disabled"&&(r=`\u{1F513} TLS not verified${r?`; ${r}`:""}`),t.attempts&&(r+=t.status==="passed"?` (passed on attempt ${t.attempts})`:` (after ${t.attempts} attempts)`),`| ${o(t)} | ${F(t.name)} | ${F(t.target)} | ${t.status==="skipped"?"":re(t.duration_ms)} | ${F(r)} |`});return["## conn-check","",`**${ce(s,e)}**`,"","| | Check | Target | Time | Details |","| --- | --- | --- | --- | --- |",...n,""].join(`
`)}i(pe,"renderMarkdown");function ve(s){if(s.definition.egress)return s.definition.egress(s.options);let{host:e,port:o}=s.options;return typeof e=="string"&&!e.startsWith("/")&&typeof o=="number"?[{protocol:"tcp",host:e,port:o}]:[]}i(ve,"egressOf");async function le(s){let{stringify:e}=await import("./yaml-DRSPOOK2.js"),o=new Map;for(let t of s)for(let r of ve(t)){let d=`${r.protocol} ${r.host} ${r.port}`,c=o.get(d)??{...r,checks:[]};c.checks.includes(t.name)||c.checks.push(t.name),o.set(d,c)}let n=[...o.values()].sort((t,r)=>t.host.localeCompare(r.host)||t.port-r.port||t.protocol.localeCompare(r.protocol));return e({egress:n.map(t=>({protocol:t.protocol,host:t.host,port:t.port,checks:t.checks}))})}i(le,"renderEgress");import{resolve as Ce}from"node:path";function fe(s,e){let o=s,n=o?.message??String(s),t=/'(-[^']*)'/.exec(n)?.[1];if(o?.code==="ERR_PARSE_ARGS_UNKNOWN_OPTION"&&t!==void 0){let r=t.split("=")[0],d=JSON.stringify(r).slice(1,-1).slice(0,60),c=r.startsWith("--")?Z(r.slice(2),new Set(e.match(/(?<=--)[a-z][a-z-]+/g))):void 0;return`unknown option ${d}${c?`; did you mean --${c}?`:""} (conn-check --help lists the options)`}if(o?.code==="ERR_PARSE_ARGS_INVALID_OPTION_VALUE"&&t!==void 0){let r=/--[\w-]+/.exec(t)?.[0]??t.split(" ")[0];return/does not take an argument/.test(n)?`${r} takes no value`:`${r} needs a value`}return n.split(`
`)[0]}i(fe,"argsProblem");import{accessSync as Se,constants as xe,statSync as me,writeFileSync as be}from"node:fs";import{dirname as W,resolve as he}from"node:path";var $=class extends Error{static{i(this,"OutputError")}};function ge(s,e){let o=s?.code;return o==="ENOENT"?`the directory ${W(e)} does not exist`:o==="ENOTDIR"?`${W(e)} is not a directory`:o==="EACCES"||o==="EPERM"?"permission denied":o==="EISDIR"?"it is a directory":o==="EROFS"?"the file system is read-only":o==="ENOSPC"?"no space left on the device":o??s?.message??String(s)}i(ge,"why");function ye(s,e){let o=he(e,s);try{if(me(o,{throwIfNoEntry:!1})?.isDirectory())throw Object.assign(new Error,{code:"EISDIR"});let n=W(o);if(!me(n).isDirectory())throw Object.assign(new Error,{code:"ENOTDIR"});Se(n,xe.W_OK)}catch(n){throw new $(`--output ${s}: cannot write the report: ${ge(n,s)}`)}}i(ye,"assertWritable");function ke(s,e,o){try{be(he(e,s),o)}catch(n){throw new $(`--output ${s}: cannot write the report: ${ge(n,s)}`)}}i(ke,"writeReport");var we=["text","json","junit","markdown"],$e=`Usage: conn-check [options] CONFIG [PATTERN ...]

Checks that every service listed in CONFIG (a conn-check YAML file, or - for
standard input) can be reached, and that its credentials work.
PATTERNs select checks as conn-check did: a whole name (the check's, or one of
conn-check's sub-step names such as redis:HOST:PORT:connect), * the only wildcard;
a check runs if any matches. A selection that matches nothing exits 3.

Options:
  -v, --verbose            print each check as it starts, and its details
  -d, --duration           print how long each check took
  -t, --tracebacks         print internal error details (never secrets)
  -U, --unbuffered-output  print results as they arrive instead of ordered
      --validate           only validate the config file
      --dry-run            print what would run, as SKIPPED, and run nothing
      --connect-timeout S  timeout of checks that set none (default ${R})
      --max-timeout S      stop everything after S seconds
      --wait S             re-run failed checks until all pass or S seconds have passed
      --include-tags A,B   run only checks with any of these tags
      --exclude-tags A,B   skip checks with any of these tags
      --concurrency N      most checks in flight at once (default ${q})
      --tls-certs-path P   extra CA certificates: a PEM file or a directory of them
      --format F           output: text (default), json, junit or markdown
      --output FILE        write the report to FILE (text still goes to stdout)
      --egress             print the firewall rules the config needs (YAML), run nothing
      --version            print the version
  -h, --help               print this help

Exit status: 0 all passed, 1 only checks with severity warning failed,
2 a check failed, 3 bad arguments or invalid config.
Check types: ${Q().map(s=>s.type).join(", ")}
`,f=class extends Error{static{i(this,"UsageError")}};function D(s,e){if(e===void 0)return;let o=Number(e);if(!Number.isFinite(o)||o<=0||o>I)throw new f(`--${s}: expected a number of seconds > 0 and <= ${I}, got ${JSON.stringify(e)}`);return o}i(D,"seconds");async function lt(s,e){let o;try{o=Oe({args:s,allowPositionals:!0,strict:!0,options:{verbose:{type:"boolean",short:"v"},duration:{type:"boolean",short:"d"},tracebacks:{type:"boolean",short:"t"},"unbuffered-output":{type:"boolean",short:"U"},validate:{type:"boolean"},"dry-run":{type:"boolean"},egress:{type:"boolean"},wait:{type:"string"},output:{type:"string"},version:{type:"boolean"},help:{type:"boolean",short:"h"},"tls-certs-path":{type:"string"},"max-timeout":{type:"string"},"connect-timeout":{type:"string"},"include-tags":{type:"string"},"exclude-tags":{type:"string"},concurrency:{type:"string"},format:{type:"string"}}})}catch(r){return e.stderr(`conn-check: ${fe(r,$e)}
`),p.Unknown}let n=o.values;if(n.help)return e.stdout($e),p.Ok;if(n.version)return e.stdout(`conn-check ${Y}
`),p.Ok;let t=new P;try{let[r,...d]=o.positionals;if(!r)throw new f("no CONFIG file given");let c=n.format??"text";if(!we.includes(c))throw new f(`--format: expected one of ${we.join(", ")}, got ${JSON.stringify(c)}`);let m=D("connect-timeout",n["connect-timeout"])??R,a=D("max-timeout",n["max-timeout"]),k=D("wait",n.wait),g;if(n.concurrency!==void 0&&(g=Number(n.concurrency),!Number.isInteger(g)||g<1))throw new f(`--concurrency: expected a whole number >= 1, got ${JSON.stringify(n.concurrency)}`);let x=j(n["include-tags"]),b=j(n["exclude-tags"]);if(x.length&&b.length)throw new f("--include-tags and --exclude-tags cannot be used together");let L=[];if(n["tls-certs-path"])try{L=await X(n["tls-certs-path"])}catch(u){throw new f(u.message.replace(/^tls-certs-path/,"--tls-certs-path"))}let h;try{h=await ee(r==="-"?{stdin:e.readStdin(),env:e.env,leftOutByTags:i(u=>_(u,{includeTags:x,excludeTags:b}),"leftOutByTags")}:{paths:[r],base:e.cwd,env:e.env,leftOutByTags:i(u=>_(u,{includeTags:x,excludeTags:b}),"leftOutByTags")})}catch(u){if(!(u instanceof H))throw u;e.stderr(u.issues.map(v=>`${A(v)}
`).join(""));let z=u.issues.filter(v=>v.severity==="error"),T=z.length;return z.every(v=>v.unreadable)?e.stderr(`UNKNOWN: cannot read the config file${T===1?"":"s"}
`):e.stderr(`UNKNOWN: invalid config (${T} problem${T===1?"":"s"})
`),p.Unknown}t=new P(te(h.checks));for(let u of h.warnings)e.stderr(t.redact(A(u))+`
`);if(n.egress)return e.stdout(t.redact(await le(h.checks))),p.Ok;if(n.validate)return e.stdout(`OK: the config is valid (${h.checks.length} check${h.checks.length===1?"":"s"})
`),p.Ok;let J={includeTags:x,excludeTags:b,patterns:d},O=ae(h.checks,J,u=>Ee(Ce(e.cwd,u)));for(let u of O.warnings)e.stderr(`warning: ${t.redact(u)}
`);if(O.error)return e.stderr(`UNKNOWN: ${t.redact(O.error)}
`),p.Unknown;n.output!==void 0&&ye(n.output,e.cwd);let K=c==="text"||n.output!==void 0,B=K&&!!n["unbuffered-output"],C={durations:!!n.duration,verbose:!!n.verbose},w=await ue(h.checks,{connectTimeoutS:m,maxTimeoutS:a,waitS:k,concurrency:g,extraCa:L,env:e.env,selection:J,dryRun:!!n["dry-run"],signal:e.signal,onStart:n.verbose&&K?u=>e.stderr(t.redact(`Starting ${u.name} (${u.target})...
`)):void 0,onResult:B?u=>e.stdout(t.redact(se(u,C))+`
`):void 0}),y=t.redactDeep(w.results),G=c==="json"?ie(y):c==="junit"?de(y,w.durationMs):c==="markdown"?pe(y,w.durationMs):U(S(y),w.durationMs,C);n.output!==void 0&&ke(n.output,e.cwd,t.redact(G)),B?e.stdout(t.redact(oe(y,w.durationMs))+`
`):n.output!==void 0?e.stdout(t.redact(U(S(y),w.durationMs,C))):e.stdout(t.redact(G));let V=ne(y,0);return V.failed?p.Critical:V.warnings?p.Warning:p.Ok}catch(r){if(r instanceof $)return e.stderr(`conn-check: ${t.redact(r.message)}
`),p.Unknown;if(r instanceof f)return e.stderr(`conn-check: ${t.redact(r.message)}
Try 'conn-check --help'.
`),p.Unknown;let d=n.tracebacks?r?.stack??String(r):r?.message??String(r);return e.stderr(`UNKNOWN: conn-check failed unexpectedly: ${t.redact(d)}
`),p.Unknown}}i(lt,"main");function ft(s){return{stdout:i(e=>process.stdout.write(e),"stdout"),stderr:i(e=>process.stderr.write(e),"stderr"),readStdin:i(()=>Ne(0),"readStdin"),env:process.env,cwd:process.cwd(),signal:s}}i(ft,"processIo");export{$e as HELP,lt as main,ft as processIo};
