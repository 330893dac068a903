/**
 * The benchmark's local targets, in a process of their own so that serving connections never
 * competes with the timing loop: a TCP listener that accepts and closes, an HTTP server that
 * answers 200 "ok", a black hole (accepts TCP, never says a word) and a silent UDP port.
 * Loopback only. Prints {"tcp":PORT,"http":PORT,"silent":PORT,"silentUdp":PORT} on one line;
 * exits when stdin closes.
 */
import { createServer as createTcpServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { createSocket } from 'node:dgram';

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

// A bound UDP port that never answers (a closed one would draw ICMP port unreachable at once).
const silentUdp = createSocket('udp4');
silentUdp.on('message', () => {});
await new Promise((resolve) => silentUdp.bind(0, '127.0.0.1', resolve));

const ports = { tcp: await listen(tcp), http: await listen(http), silent: await listen(silent), silentUdp: silentUdp.address().port };
process.stdout.write(JSON.stringify(ports) + '\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
