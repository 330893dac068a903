/**
 * The fast path of option validation: a plain function compiled once per schema (cached) from
 * the zod/mini schema itself, that returns what zod's parse returns for a valid value and says
 * "not sure" for anything else. zod still runs whenever the fast path is not sure (an invalid
 * value, a shape it does not cover), so every error message stays zod's.
 *
 * What is compiled mirrors zod 4's own parse, node by node: the type test of string, number,
 * boolean, enum, literal, unknown, array, object (unknown keys stripped, or refused by a strict
 * one), record (any string keys) and union, optional, nullable, default, pipe and transform (the
 * same transform function zod calls), then the node's checks, run through zod's own check
 * functions (refinements, lengths, bounds, regexes, an object's `.check(...)` refinements). Any
 * issue, a promise, a throw, a coercing schema or a kind of node not listed here (a tuple, say)
 * makes the value "not sure". test/validate-fast.test.ts holds the fast path to zod's output for
 * every registered type, generated variants and every kind of node compiled here.
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
 * The compiled functions whose UNSURE does not always mean that zod fails (they contain a node
 * not covered): a union needs options whose failures are certain, to know which one zod picks.
 */
const inexact = new WeakSet<Fast>([notCovered]);
/** Thrown where zod would go asynchronous (and throw in a synchronous parse): zod decides. */
const ASYNC = new Error('asynchronous');

/**
 * `schema.safeParse(value)` for a value the fast path can vouch for, without running zod's parse:
 * the same result (same coerced values, defaults and key order), or zod's own when it cannot.
 */
export function safeParseFast<S extends z.ZodMiniType>(schema: S, value: unknown): ReturnType<S['safeParse']> {
  const data = fastValidate(schema, value);
  return (data === undefined ? schema.safeParse(value) : { success: true, data: data.value }) as ReturnType<S['safeParse']>;
}

/** The fast path alone: `{ value }` when it can vouch for the value, undefined when zod must decide. */
export function fastValidate(schema: z.ZodMiniType, value: unknown): { value: unknown } | undefined {
  let out: unknown;
  try {
    out = compileNode(schema as unknown as Node)(value);
  } catch {
    // a promise, or a refinement or transform that throws: zod does what it does with it
    return undefined;
  }
  return out === UNSURE ? undefined : { value: out };
}

function compileNode(node: Node): Fast {
  let fast = compiled.get(node);
  if (!fast) {
    // (a recursive schema reaches itself while compiling: not covered)
    compiled.set(node, notCovered);
    const parts: Fast[] = [];
    fast = withChecks(node, build(node, parts));
    if (parts.some((p) => inexact.has(p))) inexact.add(fast);
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
      if (runs[i]!(payload) instanceof Promise) throw ASYNC;
      if (payload.issues.length) return UNSURE;
    }
    return payload.value;
  };
}

/** The parse of one node (its checks apart); the compiled nodes it uses are added to `parts`. */
function build(node: Node, parts: Fast[]): Fast {
  const zod = node._zod;
  const def = zod.def;
  const compile = (n: Node): Fast => {
    const fast = compileNode(n);
    parts.push(fast);
    return fast;
  };
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
        if (out instanceof Promise) throw ASYNC;
        return payload.issues.length ? UNSURE : out;
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
    case 'union': {
      // the first option that succeeds is zod's answer: every option's failure must be certain
      const options = (def.options as Node[]).map(compile);
      if (zod.traits.has('$ZodXor') || zod.traits.has('$ZodDiscriminatedUnion') || options.some((o) => inexact.has(o))) return notCovered;
      return (v) => {
        for (const option of options) {
          const out = option(v);
          if (out !== UNSURE) return out;
        }
        return UNSURE;
      };
    }
    case 'record':
      return record(def, compile);
    case 'object':
      return object(def, compile);
    default:
      return notCovered;
  }
}

/**
 * zod's object parse with its rules for absent keys: unknown keys left out, or (a strict object)
 * refused.
 */
function object(def: Internals['def'], compile: (n: Node) => Fast): Fast {
  const catchall = def.catchall as Node | undefined;
  if (catchall && catchall._zod.def.type !== 'never') return notCovered;
  const shape = def.shape as Record<string, Node>;
  if (Object.getOwnPropertySymbols(shape).length) return notCovered;
  const keys = new Set(Object.keys(shape));
  const fields = [...keys]
    .filter((key) => key !== '__proto__')
    .map((key) => {
      const el = shape[key]!;
      return { key, fast: compile(el), optin: el._zod.optin, optionalOut: el._zod.optout === 'optional' };
    });
  return (input) => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) return UNSURE;
    const given = input as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    // (indexed, not `for...of` with destructuring: no iterator or temporaries per field per item)
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i]!;
      const key = field.key;
      const fast = field.fast;
      const optin = field.optin;
      const optionalOut = field.optionalOut;
      const present = key in given;
      // an absent key that may stay absent contributes nothing (zod runs the schema and drops the result)
      if (!present && optionalOut && optin === 'optional') continue;
      if (!present && optin === undefined) return UNSURE;
      const v = fast(given[key]);
      if (v === UNSURE) {
        // (zod ignores the failure of an absent key that may be absent: when the failure is certain, so does this)
        if (!present && optionalOut && !inexact.has(fast)) continue;
        return UNSURE;
      }
      if (v !== undefined) out[key] = v;
      else if (present || (optin === 'defaulted' && !optionalOut)) out[key] = undefined;
    }
    if (catchall) for (const key in given) if (!keys.has(key)) return UNSURE;
    return out;
  };
}

/** zod's record with string keys (any string): every own enumerable key's value, in order. */
function record(def: Internals['def'], compile: (n: Node) => Fast): Fast {
  const keyType = def.keyType as Node;
  const k = keyType._zod;
  if (k.def.type !== 'string' || k.def.checks?.length || k.values || k.def.coerce || def.mode === 'loose' || def.partial) return notCovered;
  const value = compile(def.valueType as Node);
  return (input) => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) return UNSURE;
    const proto = Object.getPrototypeOf(input) as unknown;
    // (zod's isPlainObject is wider; anything else is left to it)
    if (proto !== Object.prototype && proto !== null) return UNSURE;
    const out: Record<string, unknown> = {};
    for (const key of Reflect.ownKeys(input)) {
      if (key === '__proto__' || !Object.prototype.propertyIsEnumerable.call(input, key)) continue;
      if (typeof key !== 'string') return UNSURE;
      const v = value((input as Record<string, unknown>)[key]);
      if (v === UNSURE) return UNSURE;
      out[key] = v;
    }
    return out;
  };
}
