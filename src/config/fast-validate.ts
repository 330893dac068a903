/**
 * The fast path of option validation: a plain function compiled once per schema (cached) from
 * the zod/mini schema itself, that returns what zod's parse returns for a valid value and says
 * "not sure" for anything else. zod still runs whenever the fast path is not sure (an invalid
 * value, a shape it does not cover), so every error message stays zod's.
 *
 * What is compiled mirrors zod 4's own parse, node by node: the type test of string, number,
 * boolean, enum, literal, unknown, array and object (unknown keys stripped), optional, nullable,
 * default, pipe and transform (the same transform function zod calls), then the node's checks,
 * run through zod's own check functions (refinements, lengths, bounds, regexes, an object's
 * `.check(...)` refinements). Any issue, a promise, a coercing schema or a kind of node not
 * listed here makes the whole value "not sure". test/validate-fast.test.ts holds the fast path
 * to zod's output for every registered type and many generated variants.
 */
import type * as z from 'zod/mini';

/** What a compiled node returns when it cannot vouch for the value (invalid, or not covered). */
const UNSURE: unique symbol = Symbol('unsure');
type Fast = (value: unknown) => unknown;

interface Payload {
  value: unknown;
  issues: unknown[];
}
interface Internals {
  def: Record<string, unknown> & { type: string; checks?: Node[] };
  traits: Set<string>;
  optin?: string;
  optout?: string;
  values?: Set<unknown>;
  check?: (payload: Payload) => unknown;
}
interface Node {
  _zod: Internals;
}

const compiled = new WeakMap<object, Fast>();
const notCovered: Fast = () => UNSURE;

/**
 * `schema.safeParse(value)` for a value the fast path can vouch for, without running zod's parse:
 * the same result (same coerced values, defaults and key order), or zod's own when it cannot.
 */
export function safeParseFast<S extends z.ZodMiniType>(schema: S, value: unknown): ReturnType<S["safeParse"]> {
  const data = fastValidate(schema, value);
  return (data === undefined ? schema.safeParse(value) : { success: true, data: data.value }) as ReturnType<S["safeParse"]>;
}

/** The fast path alone: `{ value }` when it can vouch for the value, undefined when zod must decide. */
export function fastValidate(schema: z.ZodMiniType, value: unknown): { value: unknown } | undefined {
  const out = compile(schema as unknown as Node)(value);
  return out === UNSURE ? undefined : { value: out };
}

function compile(node: Node): Fast {
  let fast = compiled.get(node);
  if (!fast) {
    // (a recursive schema reaches itself while compiling: not covered)
    compiled.set(node, notCovered);
    fast = withChecks(node, build(node));
    compiled.set(node, fast);
  }
  return fast;
}

/** The node's checks (zod's own check functions), run after its parse as zod runs them. */
function withChecks(node: Node, parse: Fast): Fast {
  if (parse === notCovered) return notCovered;
  const own = node._zod.def.checks ?? [];
  const checks = node._zod.traits.has('$ZodCheck') ? [node, ...own] : own;
  if (!checks.length) return parse;
  const runs: ((payload: Payload) => unknown)[] = [];
  const whens: (((payload: Payload) => boolean) | undefined)[] = [];
  for (const ch of checks) {
    if (typeof ch._zod.check !== 'function') return notCovered;
    runs.push(ch._zod.check);
    whens.push(ch._zod.def.when as ((payload: Payload) => boolean) | undefined);
  }
  return (value) => {
    const v = parse(value);
    if (v === UNSURE) return UNSURE;
    const payload: Payload = { value: v, issues: [] };
    for (let i = 0; i < runs.length; i++) {
      const when = whens[i];
      if (when && !when(payload)) continue;
      if (runs[i]!(payload) instanceof Promise || payload.issues.length) return UNSURE;
    }
    return payload.value;
  };
}

function build(node: Node): Fast {
  const zod = node._zod;
  const def = zod.def;
  if (def.coerce || zod.traits.has('$ZodCodec') || zod.traits.has('$ZodExactOptional')) return notCovered;
  switch (def.type) {
    case 'string':
      return (v) => (typeof v === 'string' ? v : UNSURE);
    case 'number':
      return (v) => (typeof v === 'number' && Number.isFinite(v) ? v : UNSURE);
    case 'boolean':
      return (v) => (typeof v === 'boolean' ? v : UNSURE);
    case 'enum':
    case 'literal': {
      const values = zod.values;
      return values ? (v) => (values.has(v) ? v : UNSURE) : notCovered;
    }
    case 'unknown':
    case 'any':
      return (v) => v;
    case 'optional': {
      const inner = def.innerType as Node;
      const fast = compile(inner);
      // an optional around a defaulted schema substitutes its default (not used by the options)
      if (inner._zod.optin === 'defaulted') return notCovered;
      return (v) => (v === undefined ? undefined : fast(v));
    }
    case 'nullable': {
      const fast = compile(def.innerType as Node);
      return (v) => (v === null ? null : fast(v));
    }
    case 'default': {
      const fast = compile(def.innerType as Node);
      // read each time, as zod does (its getter gives a fresh copy of a list or mapping)
      return (v) => {
        if (v === undefined) return def.defaultValue;
        const out = fast(v);
        return out === undefined ? def.defaultValue : out;
      };
    }
    case 'pipe': {
      const first = compile(def.in as Node);
      const then = compile(def.out as Node);
      return (v) => {
        const mid = first(v);
        return mid === UNSURE ? UNSURE : then(mid);
      };
    }
    case 'transform': {
      const fn = def.transform as (value: unknown, payload: Payload) => unknown;
      return (v) => {
        const payload: Payload = { value: v, issues: [] };
        const out = fn(v, payload);
        return payload.issues.length || out instanceof Promise ? UNSURE : out;
      };
    }
    case 'array': {
      const element = compile(def.element as Node);
      return (v) => {
        if (!Array.isArray(v)) return UNSURE;
        const out = new Array<unknown>(v.length);
        for (let i = 0; i < v.length; i++) {
          const e = element(v[i]);
          if (e === UNSURE) return UNSURE;
          out[i] = e;
        }
        return out;
      };
    }
    case 'object':
      return object(def);
    default:
      return notCovered;
  }
}

/** zod's object parse (not strict: unknown keys are left out) with its rules for absent keys. */
function object(def: Internals['def']): Fast {
  if (def.catchall) return notCovered;
  const shape = def.shape as Record<string, Node>;
  if (Object.getOwnPropertySymbols(shape).length) return notCovered;
  const fields = Object.keys(shape)
    .filter((key) => key !== '__proto__')
    .map((key) => {
      const el = shape[key]!;
      return { key, fast: compile(el), optin: el._zod.optin, optionalOut: el._zod.optout === 'optional' };
    });
  return (input) => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) return UNSURE;
    const given = input as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const { key, fast, optin, optionalOut } of fields) {
      const present = key in given;
      // an absent key that may stay absent contributes nothing (zod runs the schema and drops the result)
      if (!present && optionalOut && optin === 'optional') continue;
      if (!present && optin === undefined) return UNSURE;
      const v = fast(given[key]);
      if (v === UNSURE) return UNSURE;
      if (v !== undefined) out[key] = v;
      else if (present || (optin === 'defaulted' && !optionalOut)) out[key] = undefined;
    }
    return out;
  };
}
