/**
 * Every registered check type with its test descriptor (test/types/<type>.ts): the tests that
 * cover every type iterate this, so the list of types exists once, in the registry.
 */
import { existsSync } from 'node:fs';
import { checkTypes } from '../../src/checks/registry.js';
import type { TypeTest } from './kit.js';

export async function typeTests(): Promise<{ type: string; test: TypeTest }[]> {
  return Promise.all(
    checkTypes().map(async ({ type }) => {
      const file = new URL(`./${type}.ts`, import.meta.url);
      if (!existsSync(file)) throw new Error(`test/types/${type}.ts is missing: every check type has a test descriptor (see test/types/kit.ts)`);
      const mod = (await import(`./${type}.js`)) as { default: TypeTest };
      return { type, test: mod.default };
    }),
  );
}
