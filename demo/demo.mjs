// Starts a few real local servers, writes a conn-check file for them, and runs the CLI on it:
// what conn-check shows, with no config of your own. Everything listens on 127.0.0.1 and stops
// at the end; the only files it writes are in a temporary directory, removed at the end.
// It needs node, openssl and (for the two redis checks) redis-server; it runs the committed
// bundle (dist/), so no `npm ci`. The CLI runs as a child process without blocking this one:
// the servers it checks live in this process's event loop.
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttp } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { connect, createServer as createTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'conn-check-demo-'));
const closers = [];
const listen = (server) => new Promise((r) => server.listen(0, '127.0.0.1', () => r(server.address().port)));
const onPath = (cmd) =>
  (process.env.PATH ?? '').split(delimiter).some((d) => {
    try {
      accessSync(join(d, cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });

try {
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
  await new Promise((r) => tmp.close(r));

  let redisPort;
  if (onPath('redis-server')) {
    const s = createTcp();
    redisPort = await listen(s);
    await new Promise((r) => s.close(r));
    const child = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', 'demo-password', '--dir', dir], { stdio: 'ignore' });
    closers.push(() => child.kill());
    const up = () => new Promise((r) => {
      const c = connect(redisPort, '127.0.0.1', () => (c.destroy(), r(true)));
      c.on('error', () => r(false));
    });
    for (let i = 0; i < 100 && !(await up()); i++) await new Promise((r) => setTimeout(r, 50));
  } else {
    console.log('(redis-server is not installed: the two redis checks are left out)\n');
  }

  const config = `# conn-check demo: real servers on this machine, started by demo/demo.mjs
- type: http
  url: http://localhost:${httpPort}/health
  name: web health
- type: http
  url: http://localhost:${httpPort}/old
  name: old endpoint (redirects; conn-check does not follow by default)
- type: https
  url: https://localhost:${httpsPort}/
  ca_file: ${join(dir, 'ca.pem')}
  name: https with our CA
- type: tls
  host: localhost
  port: ${httpsPort}
  name: tls without our CA (not trusted)
- type: tcp
  host: localhost
  port: ${tcpPort}
  name: tcp listener
- type: tcp
  host: 127.0.0.1
  port: ${closedPort}
  name: a service that is down
- type: udp
  host: 127.0.0.1
  port: ${udpPort}
  send: ping
  expect: pong
  name: udp echo
${
  redisPort
    ? `- type: redis
  host: localhost
  port: ${redisPort}
  password: \${REDIS_PASSWORD}
  name: redis
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
  console.log(`--- ${file}\n${config}--- conn-check -d ${file}\n`);
  const child = spawn(process.execPath, [join(root, 'bin/conn-check.js'), '-d', file], { stdio: 'inherit', env: { ...process.env, REDIS_PASSWORD: 'demo-password' } });
  const status = await new Promise((r) => child.on('close', (code) => r(code)));
  console.log(`\n(exit status ${status}: 0 all passed, 2 something failed, 3 bad config or arguments)`);
  process.exitCode = status ?? 1;
} finally {
  for (const c of closers) c();
  rmSync(dir, { recursive: true, force: true });
}
