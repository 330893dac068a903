/**
 * The one classifier mechanism: a check declares a table from driver errors to steps and
 * messages, and `errorTable` turns it into `classify(err, step, context)`.
 *
 * A rule matches on the driver's error code first (`code`: `err.code`, a string or a number;
 * `name`: the error's class), and on its message (`message`, a regex over the first line) only
 * where the driver gives nothing else. `when` adds a condition on the check's context. The first
 * rule that matches says the step (its own `step`, else the step that was running) and the
 * message. A CheckError passes through as it is; an error no rule knows becomes the shared
 * wording of net/errors.ts. Messages built from driver text have the check's secrets (`secrets`,
 * in every wire form: secrets/forms.ts) masked.
 */
import { CheckError, type StepName } from '../../core/contract.js';
import { describeError } from '../../net/errors.js';
import { Redactor } from '../../secrets/index.js';

/** What a rule sees of a driver's error. */
export interface DriverError {
  readonly err: unknown;
  readonly code: string | number | undefined;
  readonly name: string;
  /** The first line of the message, trimmed. */
  readonly message: string;
  /** The message rule's match, when the rule has one. */
  readonly match: RegExpExecArray | null;
  /** The step that was running. */
  readonly step: StepName;
  /** What the rule matched: `err` itself, or (with `causes`) an error it wraps. */
  readonly link: unknown;
}

export interface ErrorRule<C> {
  code?: string | number | readonly (string | number)[];
  name?: string | readonly string[];
  message?: RegExp;
  when?(e: DriverError, c: C): boolean;
  /** The failing step; the step that was running when unset. */
  step?: StepName;
  say: string | ((e: DriverError, c: C) => string | CheckError);
}

export type Classifier<C> = (err: unknown, step: StepName, c: C) => CheckError;

export interface TableOptions<C> {
  /** The check's secrets, masked (in all their forms) in messages that quote the driver. */
  secrets?(c: C): readonly (string | undefined)[];
  /** What an error no rule matches says; the shared wording (net/errors.ts) when unset. */
  otherwise?(e: DriverError, c: C): string | CheckError;
  /**
   * Match each rule against the error and the errors it wraps (`cause`, five deep: undici wraps
   * socket and TLS errors), rule by rule: the first rule that matches any of them wins.
   */
  causes?: boolean;
}

const oneOf = <T>(want: T | readonly T[] | undefined, have: T): boolean => want === undefined || (Array.isArray(want) ? want.includes(have) : want === have);

/** The first line of an error's message, trimmed; '' when it has none. */
export function messageOf(err: unknown): string {
  const m = (err as { message?: unknown } | null | undefined)?.message;
  return typeof m === 'string' ? m.split('\n')[0]!.trim() : '';
}

export function errorTable<C>(rules: readonly ErrorRule<C>[], options: TableOptions<C> = {}): Classifier<C> {
  return (err, step, c) => {
    if (err instanceof CheckError) return err;
    const seen = (link: unknown) => {
      const e = (link ?? {}) as { code?: unknown; name?: unknown };
      return {
        err,
        link,
        code: typeof e.code === 'string' || typeof e.code === 'number' ? e.code : undefined,
        name: typeof e.name === 'string' ? e.name : '',
        message: messageOf(link),
        step,
      };
    };
    const links = (options.causes ? causeChain(err) : [err]).map(seen);
    const finish = (said: string | CheckError, at: StepName) => {
      if (said instanceof CheckError) return said;
      const secrets = options.secrets?.(c).filter((s): s is string => typeof s === 'string' && s !== '');
      return new CheckError(at, secrets?.length ? new Redactor(secrets).redact(said) : said);
    };
    for (const rule of rules) {
      for (const base of links) {
        if (rule.code !== undefined && (base.code === undefined || !oneOf(rule.code, base.code))) continue;
        if (rule.name !== undefined && !oneOf(rule.name, base.name)) continue;
        const match = rule.message ? rule.message.exec(base.message) : null;
        if (rule.message && !match) continue;
        const found: DriverError = { ...base, match };
        if (rule.when && !rule.when(found, c)) continue;
        const at = rule.step ?? step;
        return finish(typeof rule.say === 'string' ? rule.say : rule.say({ ...found, step: at }, c), at);
      }
    }
    const found: DriverError = { ...seen(err), match: null };
    return finish(options.otherwise ? options.otherwise(found, c) : describeError(err), step);
  };
}

/** An error and the errors it wraps (`cause`), five at most; [err] for anything else. */
function causeChain(err: unknown): unknown[] {
  const out: unknown[] = [];
  let cur: unknown = err;
  for (let i = 0; i < 5 && cur && typeof cur === 'object'; i++) {
    out.push(cur);
    cur = (cur as { cause?: unknown }).cause;
  }
  return out.length ? out : [err];
}
