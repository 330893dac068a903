/**
 * One redaction for everything the project writes: log lines, summary, annotations, outputs,
 * text and JSON reports, driver error messages.
 */
import { secretForms } from '../config/secrets.js';

const MASK = '***';
/** URL userinfo in any text, known secret or not (drivers echo connection strings). */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@]*)@/gi;

export class Redactor {
  private readonly pattern: RegExp | undefined;

  constructor(secrets: Iterable<string> = []) {
    const forms = new Set<string>();
    for (const s of secrets) for (const f of secretForms(s)) forms.add(f);
    const sorted = [...forms].sort((a, b) => b.length - a.length);
    this.pattern = sorted.length
      ? new RegExp(sorted.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g')
      : undefined;
  }

  /** Every form of every known secret, and any URL userinfo, replaced by ***. */
  redact(text: string): string {
    let out = text.replace(USERINFO, (_m, scheme: string) => `${scheme}${MASK}@`);
    if (this.pattern) out = out.replace(this.pattern, MASK);
    return out;
  }

  /** Redacts every string inside a JSON-like value. */
  redactDeep<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.redactDeep(v)) as T;
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.redactDeep(v);
      return out as T;
    }
    return value;
  }
}
