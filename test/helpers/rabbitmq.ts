/**
 * A throwaway RabbitMQ node beside the machine's default one: its own node name, AMQP and TLS
 * ports, distribution port, epmd port, data/log directories, config and cookie (HOME), all in a
 * temp directory. Users, vhosts and permissions come from a definitions file loaded at boot
 * (saves three rabbitmqctl round trips of ~1.5 s each).
 *
 * Facts learnt starting it here (Debian 12, RabbitMQ 3.10, run as root):
 * - /usr/sbin/rabbitmq-server and rabbitmqctl are wrappers that `su rabbitmq` when run as
 *   root; /usr/lib/rabbitmq/bin/* run as the caller, which keeps the temp files simple.
 * - rabbitmqctl (an Erlang node itself) listens for distribution on the first free port of
 *   35672-35682: a broker port chosen in that range fails with eaddrinuse while the CLI waits,
 *   so such ports are never used here.
 * - Erlang starts its own epmd on ERL_EPMD_PORT and leaves it running: stop() kills it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort } from './run.js';
import { alive } from './server-process.js';
import { tlsMaterial } from './tls.js';
import { scratchDir } from './scratch.js';

const SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
const CTL = '/usr/lib/rabbitmq/bin/rabbitmqctl';
const EPMD = '/usr/bin/epmd';

export interface Rabbit {
  /** Plain AMQP port. */
  port: number;
  /** AMQP over TLS (certificate: tlsMaterial().valid, for localhost and 127.0.0.1). */
  tlsPort: number;
  user: string;
  password: string;
  /** A vhost the user may use. */
  vhost: string;
  /** A vhost that exists but the user has no permissions on. */
  deniedVhost: string;
  /** A second user whose name and password need URL escaping, allowed on `vhost`. */
  oddUser: string;
  oddPassword: string;
  /** Seconds the node took to start. */
  bootSeconds: number;
  stop(): Promise<void>;
}

export function rabbitAvailable(): boolean {
  return existsSync(SERVER) && existsSync(CTL);
}

/** A free port outside ranges Erlang/RabbitMQ tools take for themselves. */
async function brokerPort(taken: Set<number>): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (taken.has(p)) continue;
    if (p >= 35672 && p <= 35682) continue; // rabbitmqctl's own distribution ports
    if (p === 25672 || p === 4369 || p === 5672 || p === 5671) continue;
    taken.add(p);
    return p;
  }
}

const nodes = new Set<{ beamPid?: number; epmdPort: number; env: NodeJS.ProcessEnv }>();
process.once('exit', () => {
  for (const n of nodes) {
    if (n.beamPid) {
      try {
        process.kill(n.beamPid, 'SIGKILL');
      } catch {}
    }
    spawnSync(EPMD, ['-port', String(n.epmdPort), '-kill'], { env: n.env, stdio: 'ignore' });
  }
});

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (out += d));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
  });
}

export async function startRabbit(): Promise<Rabbit> {
  const t0 = performance.now();
  const dir = scratchDir('conn-check-rabbit-');
  for (const d of ['mnesia', 'log', 'home']) mkdirSync(join(dir, d));
  const taken = new Set<number>();
  const port = await brokerPort(taken);
  const tlsPort = await brokerPort(taken);
  const distPort = await brokerPort(taken);
  const epmdPort = await brokerPort(taken);
  const node = `cc${randomBytes(4).toString('hex')}@localhost`;
  const user = 'checker';
  const password = `rmq-${randomBytes(6).toString('hex')}`;
  const vhost = 'cc-vhost';
  const deniedVhost = 'cc-denied';
  const oddUser = 'we!rd@user:x';
  const oddPassword = `p@ss:/w%rd?#${randomBytes(3).toString('hex')}`;
  const tls = tlsMaterial();

  writeFileSync(
    join(dir, 'definitions.json'),
    JSON.stringify({
      users: [
        { name: user, password, tags: '' },
        { name: oddUser, password: oddPassword, tags: '' },
      ],
      vhosts: [{ name: vhost }, { name: deniedVhost }],
      permissions: [
        { user, vhost, configure: '.*', write: '.*', read: '.*' },
        { user: oddUser, vhost, configure: '.*', write: '.*', read: '.*' },
      ],
    }),
  );
  writeFileSync(
    join(dir, 'rabbitmq.conf'),
    [
      `listeners.tcp.default = 127.0.0.1:${port}`,
      `listeners.ssl.default = 127.0.0.1:${tlsPort}`,
      `ssl_options.certfile = ${tls.valid.certFile}`,
      `ssl_options.keyfile = ${tls.valid.keyFile}`,
      `ssl_options.cacertfile = ${tls.caFile}`,
      'ssl_options.verify = verify_none',
      'ssl_options.fail_if_no_peer_cert = false',
      `load_definitions = ${join(dir, 'definitions.json')}`,
      'log.console = false',
      `log.file = ${join(dir, 'log', 'rabbit.log')}`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  const pidFile = join(dir, 'rabbit.pid');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    RABBITMQ_NODENAME: node,
    RABBITMQ_DIST_PORT: String(distPort),
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_PID_FILE: pidFile,
    // the machine's rabbitmq-env.conf would set NODENAME and ERL_FLAGS for the default node
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    HOME: join(dir, 'home'),
  };
  writeFileSync(join(dir, 'rabbitmq-env.conf'), '');
  const entry: { beamPid?: number; epmdPort: number; env: NodeJS.ProcessEnv } = { epmdPort, env };
  nodes.add(entry);

  const server: ChildProcess = spawn(SERVER, [], { env, stdio: 'ignore' });
  let serverExited = false;
  const serverGone = new Promise<void>((resolve) =>
    server.once('exit', () => {
      serverExited = true;
      resolve();
    }),
  );

  const stop = async () => {
    const beam = entry.beamPid ?? (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) || undefined : undefined);
    await run(CTL, ['-n', node, 'stop', ...(existsSync(pidFile) ? [pidFile] : [])], env, 30_000);
    for (let i = 0; beam && alive(beam) && i < 100; i++) await new Promise((r) => setTimeout(r, 100));
    if (beam && alive(beam)) process.kill(beam, 'SIGKILL');
    if (!serverExited) {
      const t = setTimeout(() => server.kill('SIGKILL'), 5000);
      await serverGone;
      clearTimeout(t);
    }
    await run(EPMD, ['-port', String(epmdPort), '-kill'], env, 5_000);
    nodes.delete(entry);
    if (beam && alive(beam)) throw new Error(`rabbitmq beam ${beam} still running`);
    rmSync(dir, { recursive: true, force: true });
  };

  const waited = await run(CTL, ['-n', node, 'wait', pidFile, '--timeout', '60'], env, 70_000);
  if (existsSync(pidFile)) entry.beamPid = Number(readFileSync(pidFile, 'utf8').trim()) || undefined;
  if (waited.code !== 0) {
    let log = '';
    try {
      log = readFileSync(join(dir, 'log', 'rabbit.log'), 'utf8').split('\n').filter((l) => /error/i.test(l)).slice(0, 5).join('\n');
    } catch {}
    await stop().catch(() => {});
    throw new Error(`rabbitmq did not start (rabbitmqctl wait: ${waited.code}): ${waited.out.trim()}\n${log}`);
  }
  return { port, tlsPort, user, password, vhost, deniedVhost, oddUser, oddPassword, bootSeconds: (performance.now() - t0) / 1000, stop };
}
