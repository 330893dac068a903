/**
 * The JSON Schema of a conn-check file, generated from the same zod schemas that validate it,
 * for editors (yaml-language-server) to complete and check. `npm run schema` writes it to
 * schema/conn-check.schema.json; a test fails when that file is stale.
 */
import * as z from 'zod/mini';
import { commonOptions, ignoredOptions, loadCheckTypes } from '../checks/registry.js';
import { alsoAccepts } from '../checks/options.js';

type Json = Record<string, unknown>;

function toJson(schema: z.ZodMiniType): Json {
  return z.toJSONSchema(schema, {
    io: 'input',
    target: 'draft-7',
    unrepresentable: 'any',
    override(ctx) {
      const extra = alsoAccepts.get(ctx.zodSchema as object);
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
  const common = toJson(commonOptions);
  const commonProps = { ...(common.properties as Json) };
  delete commonProps.type;
  const allNames = all.flatMap(({ type }) => [type.type, ...type.aliases]);
  const branches = all.map(({ type, definition: d }) => {
    const own = toJson(d.options);
    const names = [type.type, ...type.aliases];
    const ignored = Object.fromEntries(Object.entries(ignoredOptions[d.type] ?? {}).map(([k, why]) => [k, { description: `Ignored: ${why}` }]));
    return {
      if: { properties: { type: { enum: names } }, required: ['type'] },
      then: {
        description: `${d.type}: ${d.summary}`,
        properties: { type: { enum: names }, ...commonProps, ...(own.properties as Json), ...ignored },
        required: ['type', ...((own.required as string[] | undefined) ?? [])].filter((k) => !('default' in (((own.properties as Json)[k] as Json | undefined) ?? {}))),
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
      required: ['type'],
      properties: { type: { enum: allNames, description: 'The check type.' } },
      allOf: branches,
    },
  };
}
