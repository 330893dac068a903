/**
 * zod/mini's builders, recorded: `z.object(...)`, `z.optional(...)`, `.check(...)` and the rest
 * (the ones the option definitions use) return a plain record of the call instead of building a
 * zod schema, with zod's own types. A run whose options are valid never loads zod: the fast
 * validator (config/fast-validate.ts) compiles the records themselves. zod is loaded (loadZod)
 * and the record replayed into the same zod schema (toZod) only to say what is wrong with an
 * option, and for the JSON Schema (config/schema.ts).
 *
 * Why: building zod schemas ran every zod constructor for the first time on every run, and
 * loading zod's code cost about as much again: together about a third of what a one-check run
 * spends beyond bare Node (docs/performance.md). test/validate-fast.test.ts holds the fast path
 * to the replayed zod schema's output.
 */
import type * as zm from 'zod/mini';

export type { core, input, output, ZodMiniObject, ZodMiniPipe, ZodMiniTransform, ZodMiniType } from 'zod/mini';

type Zod = typeof zm;
type ZodParts = typeof import('./zod-parts.js');

/** One recorded builder call: `kind` is the zod/mini function's name, `args` what it was given. */
export class Recorded {
  constructor(
    readonly kind: string,
    readonly args: readonly unknown[],
    readonly checks: readonly Recorded[] = [],
  ) {}

  /** zod/mini's `.check(...)`: a copy with the checks appended. */
  check(...checks: Recorded[]): Recorded {
    return new Recorded(this.kind, this.args, [...this.checks, ...checks]);
  }

  /** An object schema's shape (what zod's `.shape` gives). */
  get shape(): Record<string, unknown> {
    return this.args[0] as Record<string, unknown>;
  }

  /** zod's safeParse, by the replayed schema: zod must be loaded (loadZod). */
  safeParse(value: unknown): unknown {
    return (toZod(this) as zm.ZodMiniType).safeParse(value);
  }

  /** zod's parse, by the replayed schema: zod must be loaded (loadZod). */
  parse(value: unknown): unknown {
    return (toZod(this) as zm.ZodMiniType).parse(value);
  }
}

/** Thrown where a record must be replayed before zod is loaded: await loadZod(), then try again. */
export class ZodNotLoaded extends Error {
  constructor() {
    super('zod is not loaded (await loadZod() first)');
    this.name = 'ZodNotLoaded';
  }
}

let zod: ZodParts | undefined;
/** Loads zod (once): the parts of it that the records replay. */
export async function loadZod(): Promise<ZodParts> {
  return (zod ??= await import('./zod-parts.js'));
}
/** Whether zod is loaded (a record can be replayed now). */
export const zodLoaded = (): boolean => zod !== undefined;

const replayed = new WeakMap<Recorded, unknown>();
const recordOf = new WeakMap<object, Recorded>();

/** The zod schema a record stands for (built once per record; zod must be loaded). */
export function toZod(schema: unknown): unknown {
  if (!(schema instanceof Recorded)) return schema;
  let out = replayed.get(schema);
  if (out === undefined) {
    if (!zod) throw new ZodNotLoaded();
    const build = (zod as unknown as Record<string, (...args: unknown[]) => { check(...c: unknown[]): unknown }>)[schema.kind]!;
    let built = build(...schema.args.map(replay));
    if (schema.checks.length) built = built.check(...schema.checks.map(toZod)) as typeof built;
    out = built;
    replayed.set(schema, out);
    recordOf.set(out as object, schema);
  }
  return out;
}

/** The record a replayed zod schema came from (for marks kept by record: alsoAccepts, secrets). */
export function recordOfZod(schema: object): Recorded | undefined {
  return recordOf.get(schema);
}

/** An argument replayed: records become schemas, in lists and plain mappings (a shape) too. */
function replay(v: unknown): unknown {
  if (v instanceof Recorded) return toZod(v);
  if (Array.isArray(v)) return v.some(holdsRecord) ? v.map(replay) : v;
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype && Object.values(v).some(holdsRecord)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v)) out[key] = replay((v as Record<string, unknown>)[key]);
    return out;
  }
  return v;
}
function holdsRecord(v: unknown): boolean {
  return v instanceof Recorded || (Array.isArray(v) && v.some(holdsRecord));
}

/** A recording builder typed as zod/mini's own. */
function recorder<K extends keyof Zod>(kind: K): Zod[K] {
  kinds.add(kind);
  return ((...args: unknown[]) => new Recorded(kind, args)) as unknown as Zod[K];
}
const kinds = new Set<string>();
/** Every kind of call this module records (each must be a part zod-parts.ts exports). */
export const recordedKinds = (): readonly string[] => [...kinds];

export const string = recorder('string');
export const number = recorder('number');
export const int = recorder('int');
export const boolean = recorder('boolean');
const enumOf = recorder('enum');
export { enumOf as enum };
export const literal = recorder('literal');
export const unknown = recorder('unknown');
export const any = recorder('any');
export const optional = recorder('optional');
export const nullable = recorder('nullable');
export const _default = recorder('_default');
export const pipe = recorder('pipe');
export const transform = recorder('transform');
export const array = recorder('array');
export const tuple = recorder('tuple');
export const record = recorder('record');
export const union = recorder('union');
export const object = recorder('object');
export const strictObject = recorder('strictObject');
export const refine = recorder('refine');
export const superRefine = recorder('superRefine');
export const minLength = recorder('minLength');
export const maxLength = recorder('maxLength');
export const minimum = recorder('minimum');
export const maximum = recorder('maximum');
export const gt = recorder('gt');
export const gte = recorder('gte');
export const lt = recorder('lt');
export const lte = recorder('lte');
export const trim = recorder('trim');
export const regex = recorder('regex');
/** zod's NEVER (what a superRefine may return). */
export const NEVER = Object.freeze({ status: 'aborted' }) as never;

/** zod's top-level safeParse, by the replayed schema (zod must be loaded). */
export function safeParse<S extends zm.ZodMiniType>(schema: S, value: unknown): ReturnType<S['safeParse']> {
  return (toZod(schema) as S).safeParse(value) as ReturnType<S['safeParse']>;
}
