/**
 * The check types, and the options every check has. Adding a type: one file in this folder,
 * one line in `definitions` below.
 */
import { z } from 'zod';
import type { AnyCheckDefinition } from './types.js';
import { seconds, stringList, text } from './options.js';
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

const definitions: readonly AnyCheckDefinition[] = [tcp, tls, udp, http, amqp, postgres, redis, memcache, mongodb, smtp] as unknown as AnyCheckDefinition[];

/** Options every check accepts, whatever its type. */
export const commonOptions = z.object({
  type: z.string(),
  name: text('a non-empty name').optional(),
  tags: stringList('a list of tags').default([]),
  timeout: seconds().optional(),
});
export const commonOptionNames: readonly string[] = Object.keys(commonOptions.shape);

/** Options conn-check accepted and ignored: a warning that says so, instead of "unknown". */
export const ignoredOptions: Record<string, Record<string, string>> = {
  tls: { verify: 'conn-check ignored this option and so does this tool; set disable_tls_verification: true to skip verification' },
};

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
