/**
 * The check types, and the options every check has. Adding a type: one file in this folder,
 * one line in `types` below.
 *
 * Each type's module (its option schema, its protocol code) is loaded only when a config uses
 * the type (tcp's apart, see below): a run of http checks builds one schema, not nineteen. The
 * type names and their aliases live here, so that unknown types are reported without loading
 * anything.
 */
import type { AnyCheckDefinition } from '../core/contract.js';
import { tcp } from './tcp.js';

export { commonOptions, commonOptionNames, ignoredOptions } from '../core/common.js';

/** A check type as the registry knows it before its module is loaded. */
export interface CheckType {
  /** The canonical type name, as conn-check spells it. */
  readonly type: string;
  /** Other names accepted for `type` (conn-check's aliases). */
  readonly aliases: readonly string[];
  /** The type's definition (its module is imported on the first call). */
  load(): Promise<AnyCheckDefinition>;
}

const def = (m: Record<string, unknown>, name: string) => m[name] as AnyCheckDefinition;
const types: readonly CheckType[] = [
  // tcp, the commonest and smallest type, comes with the registry: a file of its own cost each
  // run of tcp checks one more module for Node's ESM loader (more than tcp's whole code).
  entry('tcp', [], () => Promise.resolve(tcp as AnyCheckDefinition)),
  entry('tls', ['ssl'], () => import('./tls.js').then((m) => def(m, 'tls'))),
  entry('udp', [], () => import('./udp.js').then((m) => def(m, 'udp'))),
  entry('http', ['https'], () => import('./http/index.js').then((m) => def(m, 'http'))),
  entry('amqp', [], () => import('./amqp.js').then((m) => def(m, 'amqp'))),
  entry('postgres', ['postgresql'], () => import('./postgres.js').then((m) => def(m, 'postgres'))),
  entry('redis', [], () => import('./redis.js').then((m) => def(m, 'redis'))),
  entry('memcache', ['memcached'], () => import('./memcache.js').then((m) => def(m, 'memcache'))),
  entry('mongodb', ['mongo'], () => import('./mongodb.js').then((m) => def(m, 'mongodb'))),
  entry('smtp', [], () => import('./smtp.js').then((m) => def(m, 'smtp'))),
  entry('mysql', ['mariadb'], () => import('./mysql.js').then((m) => def(m, 'mysql'))),
  entry('dns', [], () => import('./dns.js').then((m) => def(m, 'dns'))),
  entry('nats', [], () => import('./nats.js').then((m) => def(m, 'nats'))),
  entry('mqtt', [], () => import('./mqtt.js').then((m) => def(m, 'mqtt'))),
  entry('ssh', [], () => import('./ssh.js').then((m) => def(m, 'ssh'))),
  entry('ldap', [], () => import('./ldap.js').then((m) => def(m, 'ldap'))),
  entry('kafka', [], () => import('./kafka.js').then((m) => def(m, 'kafka'))),
  entry('grpc', [], () => import('./grpc.js').then((m) => def(m, 'grpc'))),
  entry('s3', [], () => import('./s3.js').then((m) => def(m, 's3'))),
];

function entry(type: string, aliases: readonly string[], load: () => Promise<AnyCheckDefinition>): CheckType {
  let loading: Promise<AnyCheckDefinition> | undefined;
  return { type, aliases, load: () => (loading ??= load()) };
}

const byName = new Map<string, CheckType>();
for (const t of types) {
  for (const name of [t.type, ...t.aliases]) byName.set(name.toLowerCase(), t);
}

export function findCheckType(name: string): CheckType | undefined {
  return byName.get(name.trim().toLowerCase());
}

/** The type names (with aliases in parentheses), for error messages and --help. */
export function knownTypeNames(): string[] {
  return types.map((t) => (t.aliases.length ? `${t.type} (${t.aliases.join(', ')})` : t.type));
}

/** Every check type, not loaded. */
export function checkTypes(): readonly CheckType[] {
  return types;
}

/** Every check type with its definition (loads them all: for the JSON Schema and the tests). */
export async function loadCheckTypes(): Promise<{ type: CheckType; definition: AnyCheckDefinition }[]> {
  return Promise.all(types.map(async (type) => ({ type, definition: await type.load() })));
}

/**
 * The type a URL scheme stands for (`postgresql` → postgres), from the schemes each definition
 * declares (`url.schemes`). Loads every type's definition, so only a check with `url:` and no
 * `type` asks.
 */
export async function typeForScheme(scheme: string): Promise<AnyCheckDefinition | undefined> {
  return (await schemeMap()).get(scheme.toLowerCase());
}

/** Every scheme that picks a type, for error messages and docs. */
export async function knownSchemes(): Promise<string[]> {
  return [...(await schemeMap()).keys()];
}

let schemes: Promise<Map<string, AnyCheckDefinition>> | undefined;
function schemeMap(): Promise<Map<string, AnyCheckDefinition>> {
  return (schemes ??= loadCheckTypes().then((all) => {
    const map = new Map<string, AnyCheckDefinition>();
    for (const { definition } of all) {
      for (const s of definition.url?.schemes ?? []) {
        const other = map.get(s);
        if (other) throw new Error(`URL scheme ${s}: declared by both ${other.type} and ${definition.type}`);
        map.set(s, definition);
      }
    }
    return map;
  }));
}

/** The type whose `container.images` names this image (no registry, tag or digest). */
export async function typeForImage(image: string): Promise<AnyCheckDefinition | undefined> {
  return (images ??= loadCheckTypes().then((all) => {
    const map = new Map<string, AnyCheckDefinition>();
    for (const { definition } of all) {
      for (const i of definition.container?.images ?? []) {
        const other = map.get(i);
        if (other) throw new Error(`image ${i}: declared by both ${other.type} and ${definition.type}`);
        map.set(i, definition);
      }
    }
    return map;
  })).then((m) => m.get(image.toLowerCase()));
}
let images: Promise<Map<string, AnyCheckDefinition>> | undefined;
