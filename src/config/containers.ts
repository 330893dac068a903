/**
 * Container images to checks: the image map comes from the types' own `container` declarations
 * (registry.typeForImage); this file only normalises image references and builds the options.
 */
import { typeForImage } from '../checks/registry.js';
import type { AnyCheckDefinition, ContainerEnv } from '../core/contract.js';

/** `docker.io/library/postgres:16@sha256:...` → `postgres`; `ghcr.io/org/x:1` → `ghcr.io/org/x`. */
export function imageName(image: string): string {
  let s = image.trim().toLowerCase();
  s = s.replace(/@.*$/, '');
  const slash = s.lastIndexOf('/');
  const colon = s.lastIndexOf(':');
  if (colon > slash) s = s.slice(0, colon);
  s = s.replace(/^(docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '').replace(/^library\//, '');
  return s;
}

/** The type for an image: its full name, else its last path part (`public.ecr.aws/docker/library/redis`). */
export async function typeOfImage(image: string): Promise<AnyCheckDefinition | undefined> {
  const name = imageName(image);
  return (await typeForImage(name)) ?? (name.includes('/') ? typeForImage(name.slice(name.lastIndexOf('/') + 1)) : undefined);
}

/** The port a known image's server listens on inside its container. */
export function containerPort(definition: AnyCheckDefinition, image: string): number {
  const name = imageName(image);
  const ports = definition.container?.ports ?? {};
  return ports[name] ?? ports[name.slice(name.lastIndexOf('/') + 1)] ?? definition.container!.port;
}

/** Names of variables whose values are credentials: referenced, never copied. */
export const SECRET_NAME = /PASS|SECRET|TOKEN|KEY|CREDENTIAL|AUTH/i;

/**
 * A ContainerEnv for a generated config: every variable the container sets becomes a `${NAME}`
 * reference; a non-secret value is its default (`${POSTGRES_USER:-app}`). A value that is itself
 * a reference (`${DB_PASSWORD}` in a compose file) is kept as that reference.
 */
export function referenceEnv(environment: Record<string, string | null | undefined>): ContainerEnv {
  return {
    has: (name) => Object.hasOwn(environment, name),
    get(name, fallback) {
      if (!Object.hasOwn(environment, name)) return fallback;
      const value = environment[name];
      const ref = typeof value === 'string' ? /^\$\{?([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}?$/.exec(value.trim()) : null;
      const [refName, refDefault] = ref ? [ref[1]!, ref[2]] : [name, typeof value === 'string' && value !== '' ? value : undefined];
      const usable = refDefault !== undefined && !SECRET_NAME.test(name) && !SECRET_NAME.test(refName) && /^[^${}\r\n]*$/.test(refDefault);
      return usable ? `\${${refName}:-${refDefault}}` : `\${${refName}}`;
    },
  };
}

/** A ContainerEnv over real values (docker inspect). */
export function valueEnv(environment: Record<string, string>): ContainerEnv {
  return {
    has: (name) => Object.hasOwn(environment, name),
    get: (name, fallback) => (Object.hasOwn(environment, name) ? environment[name] : fallback),
  };
}

/** The options for a container of a known image, without undefined values. */
export function containerOptions(definition: AnyCheckDefinition, env: ContainerEnv): Record<string, unknown> {
  const options = definition.container?.options(env) ?? {};
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}
