/**
 * The parts of zod/mini that core/z.ts records and replays, and nothing else: a module of named
 * exports, so that the bundle's zod chunk (loaded only to explain an invalid option) holds these
 * and what they use, not all of zod/mini (a dynamic import of 'zod/mini' itself bundles all of it).
 */
export {
  _default,
  any,
  array,
  boolean,
  enum,
  gt,
  gte,
  int,
  literal,
  lt,
  lte,
  maximum,
  maxLength,
  minimum,
  minLength,
  nullable,
  number,
  object,
  optional,
  pipe,
  record,
  refine,
  regex,
  strictObject,
  string,
  superRefine,
  transform,
  trim,
  tuple,
  union,
  unknown,
} from 'zod/mini';
