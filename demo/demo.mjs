// Starts a few real local servers, writes a conn-check file for them, and runs the CLI on it:
// what conn-check shows, with no config of your own. Everything listens on 127.0.0.1 and stops
// at the end.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttp } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { createServer as createTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'conn-check-demo-'));
const closers = [];
const listen = (server, ...args) => new Promise((r) => server.listen(0, '127.0.0.1', ...args, () => r(server.address().port)));

// a CA and a certificate for localhost, made with openssl
const ssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=conn-check demo CA');
ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'site.key', '-out', 'site.csr', '-subj', '/CN=localhost');
writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
ssl('x509', '-req', '-in', 'site.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', 'site.pem');

const app = createHttp((req, res) => {
  if (req.url === '/health') return res.end('ok');
  if (req.url === '/old') return res.writeHead(302, { location: '/health' }).end();
  res.writeHead(404).end();
});
const httpPort = await listen(app);
closers.push(() => app.close());
const tlsApp = createHttps({ key: readFileSync(join(dir, 'site.key')), cert: readFileSync(join(dir, 'site.pem')) }, (req, res) => res.end('ok'));
const httpsPort = await listen(tlsApp);
closers.push(() => tlsApp.close());
const tcp = createTcp((s) => s.end());
const tcpPort = await listen(tcp);
closers.push(() => tcp.close());
const udp = createSocket('udp4');
udp.on('message', (msg, from) => udp.send(msg.toString() === 'ping' ? 'pong' : 'what?', from.port, from.address));
await new Promise((r) => udp.bind(0, '127.0.0.1', r));
const udpPort = udp.address().port;
closers.push(() => udp.close());
const tmp = createTcp();
const closedPort = await listen(tmp);
tmp.close();

let redisPort;
if (spawnSync('redis-server', ['--version']).status === 0) {
  const s = createTcp();
  redisPort = await listen(s);
  s.close();
  const child = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', 'demo-password'], { stdio: 'ignore' });
  closers.push(() => child.kill());
  for (let i = 0; i < 50 && spawnSync('redis-cli', ['-p', String(redisPort), 'ping']).status !== 0; i++) await new Promise((r) => setTimeout(r, 100));
}

const config = `# conn-check demo: real servers on this machine, started by demo/demo.mjs
- type: http
  url: http://localhost:${httpPort}/health
- type: http
  url: http://localhost:${httpPort}/old
  name: old endpoint (redirects; conn-check does not follow by default)
- type: https
  url: https://localhost:${httpsPort}/
  ca_file: ${join(dir, 'ca.pem')}
- type: tls
  host: localhost
  port: ${httpsPort}
  name: tls without our CA (not trusted)
- type: tcp
  host: localhost
  port: ${tcpPort}
- type: tcp
  host: 127.0.0.1
  port: ${closedPort}
  name: a service that is down
- type: udp
  host: 127.0.0.1
  port: ${udpPort}
  send: ping
  expect: pong
${
  redisPort
    ? `- type: redis
  host: localhost
  port: ${redisPort}
  password: \${REDIS_PASSWORD}
- type: redis
  host: localhost
  port: ${redisPort}
  password: wrong-password
  name: redis with a wrong password
`
    : ''
}`;
const file = join(dir, 'demo.yaml');
writeFileSync(file, config);
console.log(`--- ${file}\n${config}--- conn-check ${file}\n`);
const run = spawnSync(process.execPath, [join(root, 'bin/conn-check.js'), '-d', file], { stdio: 'inherit', env: { ...process.env, REDIS_PASSWORD: 'demo-password' } });
console.log(`\n(exit status ${run.status}: 0 all passed, 2 something failed, 3 bad config or arguments)`);
for (const c of closers) c();
rmSync(dir, { recursive: true, force: true });
