/**
 * Case 4's real servers, started with the test helpers (run with `node --import tsx`):
 * PostgreSQL, Redis, memcached, RabbitMQ and the MongoDB wire server, each with a password
 * where the service has one. Prints one JSON line: for each service that started, its port and
 * credentials, and for each that could not, why (the benchmark skips it with that note).
 * Stops everything when stdin closes or on SIGTERM/SIGINT.
 */
import { existsSync } from 'node:fs';
import { PG, startPostgres } from '../test/helpers/postgres.js';
import { startRedis } from '../test/helpers/redis.js';
import { MEMCACHED, startMemcached } from '../test/helpers/memcached.js';
import { rabbitAvailable, startRabbit } from '../test/helpers/rabbitmq.js';
import { startMongoServer } from '../test/helpers/mongo-server.js';

const PASSWORD = 'bench-Secret-51x';
const stoppers: (() => Promise<unknown>)[] = [];
const out: Record<string, unknown> = {};
const skipped: Record<string, string> = {};

async function attempt(name: string, start: () => Promise<void>): Promise<void> {
  try {
    await start();
  } catch (err) {
    skipped[name] = `could not start: ${(err as Error).message.split('\n')[0]}`;
  }
}

await Promise.all([
  attempt('postgres', async () => {
    const pg = await startPostgres();
    stoppers.push(() => pg.stop());
    out.postgres = { port: pg.plain.port, username: PG.user, password: PG.password, database: PG.database };
  }),
  attempt('redis', async () => {
    if (!existsSync('/usr/bin/redis-server')) throw new Error('redis-server is not installed');
    const r = await startRedis({ password: PASSWORD });
    stoppers.push(() => r.stop());
    out.redis = { port: r.port, password: PASSWORD };
  }),
  attempt('memcached', async () => {
    if (!existsSync(MEMCACHED)) throw new Error('memcached is not installed');
    const m = await startMemcached();
    stoppers.push(() => m.stop());
    out.memcached = { port: m.port };
  }),
  attempt('amqp', async () => {
    if (!rabbitAvailable()) throw new Error('rabbitmq-server is not installed');
    const r = await startRabbit();
    stoppers.push(() => r.stop());
    out.amqp = { port: r.port, username: r.user, password: r.password, vhost: r.vhost };
  }),
  attempt('mongodb', async () => {
    const m = await startMongoServer({ users: [{ user: 'benchuser', password: PASSWORD }] });
    stoppers.push(() => m.close());
    out.mongodb = { port: m.port, username: 'benchuser', password: PASSWORD };
  }),
]);

process.stdout.write(JSON.stringify({ services: out, skipped }) + '\n');

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.allSettled(stoppers.map((s) => s()));
  process.exit(0);
}
process.stdin.resume();
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
