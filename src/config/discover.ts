/**
 * What `conn-check init --from` reads: a docker-compose file, a dotenv file or Kubernetes
 * manifests, turned into proposed checks (each with the lines saying where it came from).
 * Credentials are `${VAR}` references, never literals (config/containers.ts).
 */
import { parseAllDocuments } from 'yaml';
import { MAX_ALIAS_COUNT } from '../core/constants.js';
import { checksFromEnv } from './from-env.js';
import { containerOptions, containerPort, referenceEnv, typeOfImage } from './containers.js';

export interface Proposal {
  /** Comment lines above the check. */
  comment: string[];
  options: Record<string, unknown>;
}

export interface Discovered {
  kind: 'compose' | 'dotenv' | 'kubernetes';
  proposals: Proposal[];
  /** Lines for the header (how to run the result). */
  notes: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
/** One line of text from a file, safe inside a YAML comment. */
const line = (v: unknown) => String(v).replace(/[\0-\x1f\x7f\u2028\u2029]/g, ' ').slice(0, 120);

/** Reads a file's text as whichever of the three it is. */
export async function discover(text: string, file: string): Promise<Discovered> {
  const dotenvName = /(^|[\\/])\.env([.-][^\\/]*)?$|\.env$/i.test(file);
  const looksYaml = !dotenvName && (/\.(ya?ml|json)$/i.test(file) || /^\s*(services|apiVersion|kind|version)\s*:/m.test(text));
  if (!looksYaml) return fromDotenv(text, file);
  const docs = parseAllDocuments(text, { prettyErrors: false });
  const values: unknown[] = [];
  for (const d of Array.isArray(docs) ? docs : [docs]) {
    if (d.errors.length) throw new Error(`${file}: not valid YAML: ${line(d.errors[0]!.message.split('\n')[0])}`);
    values.push(d.toJS({ maxAliasCount: MAX_ALIAS_COUNT }));
  }
  if (values.some((v) => isObj(v) && typeof v.kind === 'string' && typeof v.apiVersion === 'string')) return fromKubernetes(values, file);
  const first = values[0];
  if (isObj(first) && isObj(first.services)) return fromCompose(first, file);
  throw new Error(`${file}: neither a docker-compose file (services:), Kubernetes manifests (kind:, apiVersion:) nor a dotenv file`);
}

async function fromDotenv(text: string, file: string): Promise<Discovered> {
  const { parse } = await import('dotenv');
  const vars = parse(text);
  const found = await checksFromEnv(vars);
  return {
    kind: 'dotenv',
    proposals: found.taken.map((name) => ({ comment: [`${file}: ${name}`], options: { name, url: `\${${name}}` } })),
    notes: [`The URLs stay in ${file}: run with --env-file ${file} (or the action's env-file input).`, ...found.skipped.map((s) => `Left out: ${s}.`)],
  };
}

interface Mapping {
  host: string;
  published?: string;
  target: number;
}

/** Compose's port forms: "5432", "5433:5432", "127.0.0.1:5433:5432/tcp", {target, published, host_ip}. */
function composePorts(ports: unknown): Mapping[] {
  const out: Mapping[] = [];
  for (const p of Array.isArray(ports) ? ports : []) {
    if (isObj(p)) {
      if (p.protocol === 'udp' || typeof p.target !== 'number') continue;
      out.push({ host: hostIp(p.host_ip), published: p.published === undefined ? undefined : String(p.published), target: p.target });
      continue;
    }
    const s = String(p).trim();
    if (/\/udp$/i.test(s)) continue;
    const m = /^(?:(\[[^\]]+\]|[^:]+):)??(?:([^:]+):)?(\d+)(?:\/tcp)?$/i.exec(s);
    if (!m || /-/.test(m[2] ?? '')) continue; // ranges are left out
    out.push({ host: hostIp(m[1]), published: m[2], target: Number(m[3]) });
  }
  return out;
}

function hostIp(ip: unknown): string {
  const s = typeof ip === 'string' ? ip.replace(/^\[|\]$/g, '') : '';
  return !s || s === '0.0.0.0' || s === '::' ? 'localhost' : s;
}

function composeEnv(env: unknown): Record<string, string | null> {
  if (isObj(env)) return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null || v === undefined ? null : String(v)]));
  const out: Record<string, string | null> = {};
  for (const e of Array.isArray(env) ? env : []) {
    const s = String(e);
    const eq = s.indexOf('=');
    if (eq === -1) out[s] = null;
    else out[s.slice(0, eq)] = s.slice(eq + 1);
  }
  return out;
}

/** A published port as the check's port: a number, or the compose file's own ${VAR}. */
function portValue(published: string): number | string {
  return /^\d+$/.test(published) ? Number(published) : published;
}

async function fromCompose(doc: Obj, file: string): Promise<Discovered> {
  const proposals: Proposal[] = [];
  const notes: string[] = [];
  for (const [service, raw] of Object.entries(doc.services as Obj)) {
    if (!isObj(raw)) continue;
    const image = typeof raw.image === 'string' ? raw.image : undefined;
    const ports = composePorts(raw.ports);
    const definition = image ? await typeOfImage(image) : undefined;
    const where = `${file}: service ${line(service)}${image ? ` (${line(image)})` : ''}`;
    if (definition?.container) {
      const cport = containerPort(definition, image!);
      const main = ports.find((p) => p.target === cport);
      const env = referenceEnv(composeEnv(raw.environment));
      const at = main?.published
        ? { host: main.host, port: portValue(main.published), how: `port ${main.target} published on ${main.published}` }
        : { host: service, port: cport, how: `port ${cport} not published: reachable as ${line(service)} inside the compose network` };
      if (raw.env_file !== undefined) notes.push(`Service ${line(service)} reads an env_file: its variables are not seen here; add them to the check if they hold credentials.`);
      proposals.push({ comment: [`${where}, ${at.how}`], options: { name: service, type: definition.type, host: at.host, port: at.port, ...containerOptions(definition, env) } });
      continue;
    }
    const published = ports.filter((p) => p.published !== undefined);
    for (const p of published) {
      proposals.push({
        comment: [`${where}, port ${p.target} published on ${p.published}: an image conn-check has no check for, so a TCP connection`],
        options: { name: published.length > 1 ? `${service}:${p.published}` : service, type: 'tcp', host: p.host, port: portValue(p.published!) },
      });
    }
  }
  notes.unshift('Credentials are ${VAR} references to the variables the compose file sets: export them, or pass --env-file.');
  return { kind: 'compose', proposals, notes };
}

interface K8sPort {
  port: number;
  targetPort?: number | string;
  name?: string;
  protocol?: string;
}

async function fromKubernetes(docs: unknown[], file: string): Promise<Discovered> {
  const items = docs.flatMap((d) => (isObj(d) && d.kind === 'List' && Array.isArray(d.items) ? d.items : [d])).filter(isObj);
  const services = items
    .filter((d) => d.kind === 'Service' && isObj(d.metadata) && isObj(d.spec))
    .map((d) => {
      const meta = d.metadata as Obj;
      const spec = d.spec as Obj;
      const ns = typeof meta.namespace === 'string' ? meta.namespace : undefined;
      return {
        name: String(meta.name),
        host: ns ? `${String(meta.name)}.${ns}.svc` : String(meta.name),
        selector: isObj(spec.selector) ? (spec.selector as Record<string, unknown>) : {},
        ports: (Array.isArray(spec.ports) ? spec.ports : []).filter(isObj) as unknown as K8sPort[],
        used: new Set<number>(),
      };
    });
  const proposals: Proposal[] = [];
  const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod']);
  for (const w of items.filter((d) => typeof d.kind === 'string' && WORKLOADS.has(d.kind))) {
    const kind = w.kind as string;
    const spec = (kind === 'Pod' ? w : kind === 'CronJob' ? (w.spec as Obj | undefined)?.jobTemplate : w) as Obj | undefined;
    const template = (kind === 'Pod' ? w : (((kind === 'CronJob' ? (spec?.spec as Obj | undefined) : (spec as Obj | undefined)?.spec) as Obj | undefined)?.template as Obj | undefined)) ?? {};
    const labels = ((template.metadata as Obj | undefined)?.labels ?? {}) as Record<string, unknown>;
    const containers = (((template.spec as Obj | undefined)?.containers ?? []) as unknown[]).filter(isObj);
    const wname = line((w.metadata as Obj | undefined)?.name ?? '?');
    for (const c of containers) {
      const env: Record<string, string | null> = {};
      for (const e of (Array.isArray(c.env) ? c.env : []).filter(isObj)) if (typeof e.name === 'string') env[e.name] = typeof e.value === 'string' ? e.value : null;
      const image = typeof c.image === 'string' ? c.image : '';
      const definition = image ? await typeOfImage(image) : undefined;
      if (definition?.container) {
        const cport = containerPort(definition, image);
        const portName = (Array.isArray(c.ports) ? c.ports : []).filter(isObj).find((p) => p.containerPort === cport)?.name;
        for (const s of services) {
          if (!Object.entries(s.selector).length || !Object.entries(s.selector).every(([k, v]) => labels[k] === v)) continue;
          const sp = s.ports.find((p) => (p.targetPort ?? p.port) === cport || (portName !== undefined && p.targetPort === portName));
          if (!sp) continue;
          s.used.add(sp.port);
          proposals.push({
            comment: [`${file}: ${kind} ${wname}, container ${line(c.name ?? '?')} (${line(image)}), through Service ${line(s.name)} port ${sp.port}`],
            options: { name: s.name, type: definition.type, host: s.host, port: sp.port, ...containerOptions(definition, referenceEnv(env)) },
          });
        }
      }
      for (const [name, value] of Object.entries(env)) {
        if (value === null) continue;
        const taken = (await checksFromEnv({ [name]: value })).taken;
        if (taken.length) proposals.push({ comment: [`${file}: ${kind} ${wname}, env ${line(name)} of container ${line(c.name ?? '?')}`], options: { name, url: `\${${name}}` } });
      }
    }
  }
  for (const s of services) {
    for (const p of s.ports) {
      if (s.used.has(p.port) || (p.protocol && p.protocol !== 'TCP') || typeof p.port !== 'number') continue;
      proposals.push({ comment: [`${file}: Service ${line(s.name)} port ${p.port}: a TCP connection`], options: { name: s.ports.length > 1 ? `${s.name}:${p.port}` : s.name, type: 'tcp', host: s.host, port: p.port } });
    }
  }
  return { kind: 'kubernetes', proposals, notes: ['Hosts are cluster DNS names: run conn-check inside the cluster, with the variables the ${VAR} references name.'] };
}
