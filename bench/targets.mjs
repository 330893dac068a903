/**
 * The benchmark's local targets, in a process of their own so that serving connections never
 * competes with the timing loop: a TCP listener that accepts and closes, an HTTP server that
 * answers 200 "ok", and a black hole (accepts TCP, never says a word). Loopback only.
 * Prints {"tcp":PORT,"http":PORT,"silent":PORT} on one line; exits when stdin closes.
 */
import { createServer as createTcpServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // A deep accept queue: thousands of checks connect at once in the larger cases.
    server.listen({ port: 0, host: '127.0.0.1', backlog: 65535 }, () => resolve(server.address().port));
  });
}

const held = new Set();
const tcp = createTcpServer((s) => s.destroy());
const http = createHttpServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
  res.end('ok\n');
});
http.keepAliveTimeout = 1000;
const silent = createTcpServer((s) => {
  held.add(s);
  s.on('error', () => {});
  s.on('close', () => held.delete(s));
});

const ports = { tcp: await listen(tcp), http: await listen(http), silent: await listen(silent) };
process.stdout.write(JSON.stringify(ports) + '\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
