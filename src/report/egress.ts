/**
 * `conn-check --egress`: the firewall rules a config needs (protocol, host, port), as
 * conn-check's conn-check-export-fw printed them, in YAML: one rule per distinct flow, with
 * the checks that need it.
 */
import type { CheckSpec } from '../config/load.js';
import type { Egress } from '../core/contract.js';

export function egressOf(check: CheckSpec): Egress[] {
  if (check.definition.egress) return check.definition.egress(check.options);
  const { host, port } = check.options as { host?: unknown; port?: unknown };
  if (typeof host === 'string' && !host.startsWith('/') && typeof port === 'number') return [{ protocol: 'tcp', host, port }];
  return [];
}

/** The egress rules as YAML (`yaml` is loaded here, only when --egress asks for them). */
export async function renderEgress(checks: readonly CheckSpec[], clean: (s: string) => string = (s) => s): Promise<string> {
  const { stringify } = await import('yaml');
  const rules = new Map<string, Egress & { checks: string[] }>();
  for (const c of checks) {
    for (const e of egressOf(c)) {
      const key = `${e.protocol} ${e.host} ${e.port}`;
      const rule = rules.get(key) ?? { ...e, host: clean(e.host), checks: [] };
      const name = clean(c.name);
      if (!rule.checks.includes(name)) rule.checks.push(name);
      rules.set(key, rule);
    }
  }
  const sorted = [...rules.values()].sort((a, b) => a.host.localeCompare(b.host) || a.port - b.port || a.protocol.localeCompare(b.protocol));
  return stringify({ egress: sorted.map((r) => ({ protocol: r.protocol, host: r.host, port: r.port, checks: r.checks })) });
}
