/**
 * The fast path of option validation: a plain function compiled once per schema (cached) from
 * the recorded schema (core/z.ts), that returns what zod's parse of the same schema returns for
 * a valid value and says "not sure" for anything else. zod is loaded and runs only when the fast
 * path is not sure (an invalid value, a shape it does not cover), so every error message stays
 * zod's, and a run whose options are valid never loads zod.
 *
 * What is compiled mirrors zod 4's own parse (node_modules/zod/v4/core/schemas.js and
 * checks.js), node by node: the type test of string, number, int, boolean, enum, literal,
 * unknown, array, object (unknown keys stripped, or refused by a strict one), record (any string
 * keys) and union, optional, nullable, default, pipe and transform (the same transform function
 * zod calls), then the node's checks: refine and superRefine (the same functions), min and max
 * length (in code points, as zod counts a string), minimum, maximum, gt(e), lt(e) and regex. Any issue, a
 * promise, a throw or a kind of node not listed here (a tuple, say) makes the value "not sure".
 * test/validate-fast.test.ts holds the fast path to zod's output for every registered type,
 * generated variants and every kind of node compiled here.
 */
import { loadZod, Recorded, toZod, zodLoaded, ZodNotLoaded, type ZodMiniType } from '../core/z.js';

/** What a compiled node returns when it cannot vouch for the value (invalid, or not covered). */
const UNSURE: unique symbol = Symbol('unsure');
type Fast = (value: unknown) => unknown;

/** What zod's checks and transforms are given: the value and the issues found so far. */
interface Payload {
  value: unknown;
  issues: unknown[];
  addIssue?: (issue: unknown) => void;
}
type Params = { when?: (payload: Payload) => boolean } | undefined;

const compiled = new WeakMap<Recorded, Fast>();
const notCovered: Fast = () => UNSURE;
/**
 * The compiled functions whose UNSURE does not always mean that zod fails (they contain a node
 * not covered): a union needs options whose failures are certain, to know which one zod picks.
 */
const inexact = new WeakSet<Fast>([notCovered]);
/** Thrown where zod would go asynchronous (and throw in a synchronous parse): zod decides. */
const ASYNC = new Error('asynchronous');

/**
 * `schema.safeParse(value)`: the fast path's result when it can vouch for the value, zod's
 * otherwise. zod must then be loaded: ZodNotLoaded says to `await loadZod()` and try again.
 */
export function safeParseFast<S extends ZodMiniType>(schema: S, value: unknown): ReturnType<S['safeParse']> {
  const data = fastValidate(schema, value);
  if (data !== undefined) return { success: true, data: data.value } as ReturnType<S['safeParse']>;
  if (schema instanceof Recorded && !zodLoaded()) throw new ZodNotLoaded();
  return (toZod(schema) as S).safeParse(value) as ReturnType<S['safeParse']>;
}

/** safeParseFast that loads zod when it must. */
export async function safeParseLoading<S extends ZodMiniType>(schema: S, value: unknown): Promise<ReturnType<S['safeParse']>> {
  const data = fastValidate(schema, value);
  if (data !== undefined) return { success: true, data: data.value } as ReturnType<S['safeParse']>;
  await loadZod();
  return (toZod(schema) as S).safeParse(value) as ReturnType<S['safeParse']>;
}

/** The fast path alone: `{ value }` when it can vouch for the value, undefined when zod must decide. */
export function fastValidate(schema: unknown, value: unknown): { value: unknown } | undefined {
  if (!(schema instanceof Recorded)) return undefined;
  let out: unknown;
  try {
    out = compileNode(schema)(value);
  } catch {
    // a promise, or a refinement or transform that throws: zod does what it does with it
    return undefined;
  }
  return out === UNSURE ? undefined : { value: out };
}

function compileNode(node: Recorded): Fast {
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

/** A string's length as zod measures it: in code points (a surrogate pair is one). */
function codePoints(s: string): number {
  let count = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    if ((s.charCodeAt(i) & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      count--;
      i++;
    }
  }
  return count;
}
const lengthOf = (v: unknown): number => (typeof v === 'string' ? codePoints(v) : (v as { length: number }).length);
/** zod's default `when` of the length checks: a value that has a length. */
const hasLength = (p: Payload): boolean => p.value !== undefined && p.value !== null && (p.value as { length?: unknown }).length !== undefined;

/** One recorded check as zod runs it: its test (true: no issue), and when it runs. */
function checkOf(ch: Recorded): { test: (payload: Payload) => boolean; when?: (payload: Payload) => boolean } | undefined {
  const [a, params] = ch.args as [unknown, Params];
  const when = params?.when;
  switch (ch.kind) {
    case 'refine': {
      const fn = a as (v: unknown) => unknown;
      return {
        when,
        test: (p) => {
          const r = fn(p.value);
          if (r instanceof Promise) throw ASYNC;
          return Boolean(r);
        },
      };
    }
    case 'superRefine': {
      const fn = a as (v: unknown, ctx: Payload) => unknown;
      return {
        when,
        test: (p) => {
          p.addIssue = (issue) => p.issues.push(issue);
          if (fn(p.value, p) instanceof Promise) throw ASYNC;
          return p.issues.length === 0;
        },
      };
    }
    case 'minLength':
      return { when: when ?? hasLength, test: (p) => lengthOf(p.value) >= (a as number) };
    case 'maxLength':
      return { when: when ?? hasLength, test: (p) => lengthOf(p.value) <= (a as number) };
    case 'minimum':
    case 'gte':
      return { when, test: (p) => (p.value as number) >= (a as number) };
    case 'maximum':
    case 'lte':
      return { when, test: (p) => (p.value as number) <= (a as number) };
    case 'gt':
      return { when, test: (p) => (p.value as number) > (a as number) };
    case 'lt':
      return { when, test: (p) => (p.value as number) < (a as number) };
    case 'regex': {
      const re = a as RegExp;
      return {
        when,
        test: (p) => {
          re.lastIndex = 0;
          return re.test(p.value as string);
        },
      };
    }
    default:
      return undefined;
  }
}

/** The node's checks, run after its parse as zod runs them. */
function withChecks(node: Recorded, parse: Fast): Fast {
  if (parse === notCovered) return notCovered;
  if (!node.checks.length) return parse;
  const tests: ((payload: Payload) => boolean)[] = [];
  const whens: (((payload: Payload) => boolean) | undefined)[] = [];
  for (const ch of node.checks) {
    const check = checkOf(ch);
    if (!check) return notCovered;
    tests.push(check.test);
    whens.push(check.when);
  }
  return (value) => {
    const v = parse(value);
    if (v === UNSURE) return UNSURE;
    const payload: Payload = { value: v, issues: [] };
    for (let i = 0; i < tests.length; i++) {
      const when = whens[i];
      if (when && !when(payload)) continue;
      if (!tests[i]!(payload)) return UNSURE;
    }
    return payload.value;
  };
}

/** zod's `optin` of a node: whether (and how) an absent key may be given to it. */
function optin(node: Recorded): 'optional' | 'defaulted' | undefined {
  const a = node.args[0] as Recorded;
  switch (node.kind) {
    case 'optional':
      return optin(a) === 'defaulted' ? 'defaulted' : 'optional';
    case 'nullable':
      return optin(a);
    case '_default':
      return 'defaulted';
    case 'transform':
      return 'optional';
    case 'pipe':
      return optin(a);
    case 'union': {
      const options = node.args[0] as Recorded[];
      return options.some((o) => optin(o) === 'defaulted') ? 'defaulted' : options.some((o) => optin(o) !== undefined) ? 'optional' : undefined;
    }
    default:
      return undefined;
  }
}

/** zod's `optout` of a node: whether its output may be absent. */
function optout(node: Recorded): 'optional' | undefined {
  const [a, b] = node.args as [Recorded, Recorded];
  switch (node.kind) {
    case 'optional':
      return 'optional';
    case 'nullable':
      return optout(a);
    case 'pipe':
      return optout(b);
    case 'union':
      return (node.args[0] as Recorded[]).some((o) => optout(o) === 'optional') ? 'optional' : undefined;
    default:
      return undefined;
  }
}

/** zod's copy of a default (a list or mapping is copied each time; a function is called). */
function defaultOf(value: unknown): () => unknown {
  if (typeof value === 'function') return value as () => unknown;
  if (Array.isArray(value)) return () => [...value];
  if (value && typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto === Object.prototype || proto === null) return () => ({ ...value });
  }
  return () => value;
}

/** The parse of one node (its checks apart); the compiled nodes it uses are added to `parts`. */
function build(node: Recorded, parts: Fast[]): Fast {
  const compile = (n: unknown): Fast => {
    const fast = n instanceof Recorded ? compileNode(n) : notCovered;
    parts.push(fast);
    return fast;
  };
  const [a, b] = node.args;
  switch (node.kind) {
    case 'string':
      return (v) => (typeof v === 'string' ? v : UNSURE);
    case 'number':
      return (v) => (typeof v === 'number' && Number.isFinite(v) ? v : UNSURE);
    case 'int':
      return (v) => (Number.isSafeInteger(v) ? v : UNSURE);
    case 'boolean':
      return (v) => (typeof v === 'boolean' ? v : UNSURE);
    case 'enum': {
      if (!Array.isArray(a) || !a.every((x) => typeof x === 'string')) return notCovered;
      const values = new Set<unknown>(a);
      return (v) => (values.has(v) ? v : UNSURE);
    }
    case 'literal': {
      const values = new Set<unknown>(Array.isArray(a) ? a : [a]);
      return (v) => (values.has(v) ? v : UNSURE);
    }
    case 'unknown':
    case 'any':
      return (v) => v;
    case 'optional': {
      const fast = compile(a);
      // an optional around a defaulted schema substitutes its default (not used by the options)
      if (a instanceof Recorded && optin(a) === 'defaulted') return notCovered;
      return (v) => (v === undefined ? undefined : fast(v));
    }
    case 'nullable': {
      const fast = compile(a);
      return (v) => (v === null ? null : fast(v));
    }
    case '_default': {
      const fast = compile(a);
      const fallback = defaultOf(b);
      return (v) => {
        if (v === undefined) return fallback();
        const out = fast(v);
        return out === undefined ? fallback() : out;
      };
    }
    case 'pipe': {
      const first = compile(a);
      const then = compile(b);
      return (v) => {
        const mid = first(v);
        return mid === UNSURE ? UNSURE : then(mid);
      };
    }
    case 'transform': {
      const fn = a as (value: unknown, payload: Payload) => unknown;
      return (v) => {
        const payload: Payload = { value: v, issues: [] };
        const out = fn(v, payload);
        if (out instanceof Promise) throw ASYNC;
        return payload.issues.length ? UNSURE : out;
      };
    }
    case 'array': {
      const element = compile(a);
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
      if (!Array.isArray(a)) return notCovered;
      const options = a.map(compile);
      if (options.some((o) => inexact.has(o))) return notCovered;
      return (v) => {
        for (const option of options) {
          const out = option(v);
          if (out !== UNSURE) return out;
        }
        return UNSURE;
      };
    }
    case 'record':
      return record(a, b, compile);
    case 'object':
      return object(a as Record<string, unknown>, false, compile);
    case 'strictObject':
      return object(a as Record<string, unknown>, true, compile);
    default:
      return notCovered;
  }
}

/**
 * zod's object parse with its rules for absent keys: unknown keys left out, or (a strict object)
 * refused.
 */
function object(shape: Record<string, unknown>, strict: boolean, compile: (n: unknown) => Fast): Fast {
  if (Object.getOwnPropertySymbols(shape).length) return notCovered;
  const keys = new Set(Object.keys(shape));
  const fields = [...keys]
    .filter((key) => key !== '__proto__')
    .map((key) => {
      const el = shape[key];
      if (!(el instanceof Recorded)) return { key, fast: notCovered, optin: undefined, optionalOut: false };
      return { key, fast: compile(el), optin: optin(el), optionalOut: optout(el) === 'optional' };
    });
  if (fields.some((f) => f.fast === notCovered)) return notCovered;
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
    if (strict) for (const key in given) if (!keys.has(key)) return UNSURE;
    return out;
  };
}

/** zod's record with string keys (any string): every own enumerable key's value, in order. */
function record(keyType: unknown, valueType: unknown, compile: (n: unknown) => Fast): Fast {
  if (!(keyType instanceof Recorded) || keyType.kind !== 'string' || keyType.checks.length) return notCovered;
  const value = compile(valueType);
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
