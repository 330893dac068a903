// Writes scripts/eager-functions.json: the top-level functions of the bundle that typical runs
// call, which the build has V8 compile with their file so that Node's compile cache holds them
// (eagerly() in scripts/build.mjs says why). Runs the built bundle (dist/, or the directory given)
// without the compile cache under V8's --log-function-events: the CLI with a tcp check, an http
// check, a failing check of each and --validate, and the action with a tcp check, against servers
// of its own on 127.0.0.1. Then build again:
//
//   npm run build && node scripts/eager-functions.mjs && npm run build
//
// Names are the functions' own (the build keeps top-level names), so the list holds across
// builds: a name it lacks is compiled when called, as before; a name the bundle lost is ignored.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { parse as parseYaml } from 'yaml';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = resolve(process.argv[2] ?? join(ROOT, 'dist'));
const work = mkdtempSync(join(tmpdir(), 'conn-check-eager-'));

const listen = (server) => new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server.address().port)));
const tcp = createTcpServer((s) => s.destroy());
const http = createHttpServer((req, res) => res.writeHead(req.url === '/fail' ? 500 : 200).end('ok'));
const [tcpPort, httpPort] = [await listen(tcp), await listen(http)];
const refused = createTcpServer(); // a port bound then released: refused
await new Promise((ok) => refused.listen(0, '127.0.0.1', ok));
const refusedPort = refused.address().port;
await new Promise((ok) => refused.close(ok));

const configs = {
  'tcp.yaml': `- type: tcp\n  host: 127.0.0.1\n  port: ${tcpPort}\n`,
  'http.yaml': `- type: http\n  url: http://127.0.0.1:${httpPort}/\n`,
  'fail.yaml': `- type: tcp\n  host: 127.0.0.1\n  port: ${refusedPort}\n- type: http\n  url: http://127.0.0.1:${httpPort}/fail\n`,
};
for (const [name, text] of Object.entries(configs)) writeFileSync(join(work, name), text);

const inputs = parseYaml(readFileSync(join(ROOT, 'action.yml'), 'utf8')).inputs;
const actionEnv = { GITHUB_WORKSPACE: work, GITHUB_STEP_SUMMARY: join(work, 'summary.md'), GITHUB_OUTPUT: join(work, 'output.txt') };
for (const [k, v] of Object.entries(inputs)) actionEnv[`INPUT_${k.toUpperCase()}`] = String(v.default ?? '');
actionEnv.INPUT_CHECKS = configs['tcp.yaml'];
writeFileSync(actionEnv.GITHUB_STEP_SUMMARY, '');
writeFileSync(actionEnv.GITHUB_OUTPUT, '');

const cli = join(DIST, 'cli/index.js');
const runs = [
  [cli, [join(work, 'tcp.yaml')]],
  [cli, [join(work, 'http.yaml')]],
  [cli, [join(work, 'fail.yaml')]],
  [cli, ['--validate', join(work, 'tcp.yaml')]],
  [join(DIST, 'index.js'), [], actionEnv],
];
/** file URL -> positions (of the parameter list's '(') of the functions that ran */
const ran = new Map();
for (const [i, [script, args, env]] of runs.entries()) {
  const log = join(work, `run${i}.log`);
  // (not execFileSync: the servers above answer from this process's event loop)
  await new Promise((ok, fail) =>
    execFile(
      process.execPath,
      ['--log-function-events', `--logfile=${log}`, '--no-logfile-per-isolate', script, ...args],
      { cwd: work, env: { ...process.env, ...env, NODE_DISABLE_COMPILE_CACHE: '1' }, timeout: 60_000 },
      (err) => (err && typeof err.code !== 'number' ? fail(err) : ok()), // a failing check exits non-zero: expected
    ),
  );
  const scripts = new Map();
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const f = line.split(',');
    if (f[0] === 'script-details' && f[2]?.startsWith(pathToFileURL(DIST).href + '/')) scripts.set(f[1], f[2]);
    // a function compiled after its file (`interpreter`: Node 24 logs no first-execution for it) or run
    else if (f[0] === 'function' && (f[1] === 'interpreter' || f[1]?.startsWith('first-execution')) && scripts.has(f[2])) {
      const url = scripts.get(f[2]);
      if (!ran.has(url)) ran.set(url, new Set());
      ran.get(url).add(Number(f[3]));
    }
  }
}
tcp.close();
http.close();

const names = new Set();
for (const [url, positions] of ran) {
  const text = readFileSync(fileURLToPath(url), 'utf8');
  const sf = ts.createSourceFile(url, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  for (const st of sf.statements) {
    // `function f(...) {...}`, or what the build made of one: `var f = (function (...) {...});`
    if (ts.isFunctionDeclaration(st) && st.name && positions.has(text.indexOf('(', st.name.end))) names.add(st.name.text);
    if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) {
        const e = d.initializer && ts.isParenthesizedExpression(d.initializer) ? d.initializer.expression : undefined;
        if (e && ts.isFunctionExpression(e) && ts.isIdentifier(d.name) && positions.has(text.indexOf('(', e.getStart(sf)))) names.add(d.name.text);
      }
    }
  }
}
rmSync(work, { recursive: true, force: true });
const list = [...names].sort();
writeFileSync(join(ROOT, 'scripts/eager-functions.json'), '[\n' + list.map((n) => `  ${JSON.stringify(n)}`).join(',\n') + '\n]\n');
console.log(`${list.length} functions in scripts/eager-functions.json`);
