/**
 * The action input `services` (`${{ toJSON(job.services) }}`): a check per service container
 * port mapped to the runner, named by the service. Where `docker` is on PATH, `docker inspect`
 * gives each container's image and environment, and a known image (the types' `container`
 * declarations) becomes its credential check. The credentials never enter the generated YAML:
 * they are `${VAR}` references to variables of an overlay environment, so they go through the
 * same interpolation and secret collection as any config (and are masked).
 */
import type { ContainerEnv } from '../core/contract.js';
import { containerOptions, containerPort, SECRET_NAME, typeOfImage } from '../config/containers.js';
import type { Source } from '../config/load.js';

export const SERVICES_FILE = '<services input>';
const MAX_SERVICES = 100;
const MAX_INSPECT_BYTES = 8 * 1024 * 1024;
const INSPECT_TIMEOUT_MS = 15_000;

export class ServicesInputError extends Error {}

interface Service {
  name: string;
  id?: string;
  /** container port → runner port */
  ports: [number, number][];
}

export interface ServicesConfig {
  source?: Source;
  /** Variables the generated config references (the containers' credentials). */
  env: Record<string, string>;
  /** Values to mask besides those the checks use (every secret-named variable of a container). */
  secrets: string[];
  notes: string[];
}

export type Inspect = (ids: string[]) => Promise<unknown[]>;

/** Parses the input: job.services as JSON. */
export function parseServices(text: string): Service[] {
  if (text.trim() === '' || text.trim() === 'null') return [];
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ServicesInputError('input services: expected the JSON of job.services (services: ${{ toJSON(job.services) }}), got text that is not JSON');
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new ServicesInputError('input services: expected a JSON object (job.services), got ' + (Array.isArray(data) ? 'a list' : typeof data));
  const entries = Object.entries(data as Record<string, unknown>);
  if (entries.length > MAX_SERVICES) throw new ServicesInputError(`input services: more than ${MAX_SERVICES} services`);
  return entries.map(([name, raw]) => {
    const s = (raw && typeof raw === 'object' ? raw : {}) as { id?: unknown; ports?: unknown };
    const ports: [number, number][] = [];
    if (s.ports && typeof s.ports === 'object' && !Array.isArray(s.ports)) {
      for (const [c, h] of Object.entries(s.ports as Record<string, unknown>)) {
        const container = Number(String(c).replace(/\/tcp$/, ''));
        const host = Number(h);
        if (Number.isInteger(container) && Number.isInteger(host) && container > 0 && container < 65536 && host > 0 && host < 65536) ports.push([container, host]);
      }
    }
    return { name, id: typeof s.id === 'string' && /^[A-Za-z0-9_.-]{1,128}$/.test(s.id) ? s.id : undefined, ports };
  });
}

/** `docker inspect` of the containers; rejects when docker is missing or fails. */
export const dockerInspect: Inspect = (ids) =>
  new Promise((resolve, reject) => {
    // Loaded here, not at import: node:child_process costs every action run ~60M instructions
    // at start (it loads dgram, net and more), and only a run with `services` calls docker.
    const { execFile } = process.getBuiltinModule('node:child_process');
    execFile('docker', ['inspect', '--', ...ids], { timeout: INSPECT_TIMEOUT_MS, maxBuffer: MAX_INSPECT_BYTES, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        return reject(new Error(code === 'ENOENT' ? 'docker is not on PATH' : `docker inspect failed: ${oneLine((stderr || err.message).split('\n')[0]!)}`));
      }
      try {
        const parsed: unknown = JSON.parse(stdout);
        resolve(Array.isArray(parsed) ? parsed : []);
      } catch {
        reject(new Error('docker inspect printed no JSON'));
      }
    });
  });

const yamlString = (s: string) => JSON.stringify(s);
/** Text from the input or from docker, safe on one log line (no CR, LF or other controls that could start a workflow command). */
const oneLine = (s: string) => s.replace(/[\0-\x1f\x7f-\x9f\u2028\u2029]/g, ' ').slice(0, 200);
const varName = (service: string, name: string) => `CONN_CHECK_SERVICE_${service.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;

export async function servicesConfig(text: string, inspect: Inspect = dockerInspect): Promise<ServicesConfig> {
  const services = parseServices(text);
  const out: ServicesConfig = { env: {}, secrets: [], notes: [] };
  if (!services.length) {
    out.notes.push('services: no service containers in the input');
    return out;
  }
  const details = new Map<string, { image: string; env: Record<string, string> }>();
  const ids = services.map((s) => s.id).filter((id): id is string => id !== undefined);
  if (ids.length) {
    try {
      for (const c of await inspect(ids)) {
        const o = (c ?? {}) as { Id?: unknown; Config?: { Image?: unknown; Env?: unknown } };
        if (typeof o.Id !== 'string' || typeof o.Config?.Image !== 'string') continue;
        const env: Record<string, string> = {};
        for (const e of Array.isArray(o.Config.Env) ? o.Config.Env : []) {
          if (typeof e !== 'string') continue;
          const eq = e.indexOf('=');
          if (eq > 0) env[e.slice(0, eq)] = e.slice(eq + 1);
        }
        details.set(o.Id, { image: o.Config.Image, env });
      }
    } catch (err) {
      out.notes.push(`services: ${oneLine((err as Error).message)}, so every mapped port gets a TCP check (no credentials are checked)`);
    }
  }
  const lines: string[] = [];
  const taken: string[] = [];
  for (const s of services) {
    const found = s.id ? [...details.entries()].find(([id]) => id === s.id || id.startsWith(s.id!))?.[1] : undefined;
    const definition = found ? await typeOfImage(found.image) : undefined;
    if (found) for (const [k, v] of Object.entries(found.env)) if (SECRET_NAME.test(k) && v.length >= 3) out.secrets.push(v);
    if (!s.ports.length) {
      out.notes.push(`services: ${oneLine(s.name)} maps no port to the runner: not checked`);
      continue;
    }
    const main = definition?.container ? s.ports.find(([c]) => c === containerPort(definition, found!.image)) : undefined;
    for (const [container, host] of s.ports) {
      const name = main?.[0] === container || s.ports.length === 1 ? s.name : `${s.name}:${container}`;
      lines.push(`- name: ${yamlString(name)}`);
      if (definition && main?.[0] === container) {
        const env: ContainerEnv = {
          has: (n) => Object.hasOwn(found!.env, n),
          get: (n, fallback) => {
            if (!Object.hasOwn(found!.env, n)) return fallback;
            const v = varName(s.name, n);
            out.env[v] = found!.env[n]!;
            return `\${${v}}`;
          },
        };
        lines.push(`  type: ${definition.type}`, '  host: localhost', `  port: ${host}`);
        for (const [k, v] of Object.entries(containerOptions(definition, env))) lines.push(`  ${k}: ${typeof v === 'string' ? yamlString(v) : String(v)}`);
        taken.push(`${oneLine(s.name)} (${definition.type})`);
      } else {
        lines.push('  type: tcp', '  host: localhost', `  port: ${host}`);
        taken.push(`${oneLine(name)} (tcp)`);
      }
    }
  }
  out.notes.unshift(`services: checks for ${taken.join(', ') || 'nothing'}`);
  if (lines.length) out.source = { file: SERVICES_FILE, text: lines.join('\n') + '\n' };
  return out;
}
