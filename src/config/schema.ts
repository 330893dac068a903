/**
 * The JSON Schema of a conn-check file, generated from the same zod schemas that validate it,
 * for editors (yaml-language-server) to complete and check. `npm run schema` writes it to
 * schema/conn-check.schema.json; a test fails when that file is stale.
 */
import { z } from 'zod';
import { checkTypes, commonOptions, ignoredOptions } from '../checks/registry.js';
import { alsoAccepts } from '../checks/options.js';

type Json = Record<string, unknown>;

function toJson(schema: z.ZodType): Json {
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

export function configJsonSchema(): Json {
  const common = toJson(commonOptions);
  const commonProps = { ...(common.properties as Json) };
  delete commonProps.type;
  const allNames = checkTypes().flatMap((d) => [d.type, ...(d.aliases ?? [])]);
  const branches = checkTypes().map((d) => {
    const own = toJson(d.options);
    const names = [d.type, ...(d.aliases ?? [])];
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
