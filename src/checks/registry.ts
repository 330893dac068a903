/**
 * The check types, and the options every check has. Adding a type: one file in this folder,
 * one line in `definitions` below.
 */
import type { AnyCheckDefinition } from './types.js';
import { tcp } from './tcp.js';
import { tls } from './tls.js';
import { udp } from './udp.js';
import { http } from './http.js';
import { postgres } from './postgres.js';
import { redis } from './redis.js';
import { memcache } from './memcache.js';
import { amqp } from './amqp.js';
import { mongodb } from './mongodb.js';
import { smtp } from './smtp.js';
import { mysql } from './mysql.js';
import { dns } from './dns.js';
import { nats } from './nats.js';
import { mqtt } from './mqtt.js';

const definitions: readonly AnyCheckDefinition[] = [tcp, tls, udp, http, amqp, postgres, redis, memcache, mongodb, smtp, mysql, dns, nats, mqtt] as unknown as AnyCheckDefinition[];

export { commonOptions, commonOptionNames, ignoredOptions } from './common.js';

const byName = new Map<string, AnyCheckDefinition>();
for (const def of definitions) {
  for (const name of [def.type, ...(def.aliases ?? [])]) byName.set(name.toLowerCase(), def);
}

export function findCheckType(name: string): AnyCheckDefinition | undefined {
  return byName.get(name.trim().toLowerCase());
}

/** The type names (with aliases in parentheses), for error messages and --help. */
export function knownTypeNames(): string[] {
  return definitions.map((d) => (d.aliases?.length ? `${d.type} (${d.aliases.join(', ')})` : d.type));
}

export function checkTypes(): readonly AnyCheckDefinition[] {
  return definitions;
}
