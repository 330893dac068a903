/**
 * The JSON Schema of a conn-check file, generated from the same zod schemas that validate it,
 * for editors (yaml-language-server) to complete and check. `npm run schema` writes it to
 * schema/conn-check.schema.json; a test fails when that file is stale.
 */
import { toJSONSchema, type ZodMiniType } from 'zod/mini';
import { loadZod, recordOfZod, toZod } from '../core/z.js';
import { commonOptions, ignoredOptions, loadCheckTypes } from '../checks/registry.js';
import { alsoAccepts } from '../core/options.js';

type Json = Record<string, unknown>;

function toJson(schema: unknown): Json {
  return toJSONSchema(toZod(schema) as ZodMiniType, {
    io: 'input',
    target: 'draft-7',
    unrepresentable: 'any',
    override(ctx) {
      const record = recordOfZod(ctx.zodSchema as object);
      const extra = record && alsoAccepts.get(record);
      if (!extra) return;
      const own: Json = { ...ctx.jsonSchema };
      const { default: dflt, description } = own;
      delete own.default;
      delete own.description;
      for (const k of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as Json)[k];
      Object.assign(ctx.jsonSchema, { anyOf: [own, ...extra], ...(dflt !== undefined ? { default: dflt } : {}), ...(description ? { description } : {}) });
    },
  }) as Json;
}

export async function configJsonSchema(): Promise<Json> {
  const all = await loadCheckTypes();
  await loadZod();
  const common = toJson(commonOptions);
  const commonProps = { ...(common.properties as Json) };
  delete commonProps.type;
  const allNames = all.flatMap(({ type }) => [type.type, ...type.aliases]);
  const branches = all.map(({ type, definition: d }) => {
    const own = toJson(d.options);
    const names = [type.type, ...type.aliases];
    const ignored = Object.fromEntries(Object.entries(ignoredOptions[d.type] ?? {}).map(([k, why]) => [k, { description: `Ignored: ${why}` }]));
    const required = ((own.required as string[] | undefined) ?? []).filter((k) => !('default' in (((own.properties as Json)[k] as Json | undefined) ?? {})));
    const schemes = d.url ? [...d.url.schemes, ...(d.url.alsoSchemes ?? [])] : [];
    const url = d.url && !('url' in (own.properties as Json)) ? { url: urlProperty(schemes) } : {};
    return {
      if: d.url ? { anyOf: [typeIs(names), urlIs(d.url.schemes)] } : typeIs(names),
      then: {
        description: `${d.type}: ${d.summary}`,
        properties: { type: { enum: names }, ...commonProps, ...(own.properties as Json), ...url, ...ignored },
        // options a URL gives are not required next to it
        ...(d.url && required.length ? { anyOf: [{ required }, { required: ['url'] }] } : {}),
        ...(!d.url && required.length ? { required } : {}),
        additionalProperties: false,
      },
    };
  });
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'conn-check configuration',
    description: 'A list of checks: the services a workflow must reach, with their credentials. ${VAR} and ${VAR:-default} are replaced from the environment.',
    type: 'array',
    items: {
      type: 'object',
      anyOf: [{ required: ['type'] }, { required: ['url'] }],
      properties: { type: { enum: allNames, description: 'The check type (taken from the scheme of url when absent).' } },
      allOf: branches,
    },
  };
}

const typeIs = (names: string[]): Json => ({ properties: { type: { enum: names } }, required: ['type'] });
/** No type, and a url with one of the type's schemes. */
const urlIs = (schemes: readonly string[]): Json => ({
  not: { required: ['type'] },
  properties: { url: { type: 'string', pattern: `^(${schemes.map((x) => x.replace(/[+.]/g, '\\$&')).join('|')})://` } },
  required: ['url'],
});
const urlProperty = (schemes: readonly string[]): Json => ({
  type: 'string',
  description: `A connection URL (${schemes.map((x) => `${x}://`).join(', ')}) whose parts become this check's options; options written beside it win.`,
});
