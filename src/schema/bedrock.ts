/**
 * JSON Schema → what Bedrock's constrained decoding takes (`outputConfig.textFormat` and `toolSpec.strict`
 * on Claude). Its compiler refuses open objects ("For 'object' type, 'additionalProperties' must be explicitly
 * set to false") and numeric, length and size constraints ("For 'array' type, property 'maxItems' is not
 * supported"), so every object is closed and each such constraint moves into the `description` the model
 * reads, with a warning; the answer is still validated against the caller's own schema. Annotations and
 * constructs the decoder has no use for are dropped, with a warning.
 *
 * Ordinary (non-strict) tool schemas go out as they are, without `$schema` (`plainBedrockSchema`).
 *
 * @see https://docs.aws.amazon.com/bedrock/latest/userguide/structured-output.html
 */
import { isRecord } from '../spec/json.ts';
import type { JsonSchema } from '../spec/tools.ts';
import type { SchemaWarnings } from './json-schema.ts';

type Json = Record<string, unknown>;

/** Kept as they are. */
const KEPT = new Set([
  'type',
  'properties',
  'required',
  'items',
  'enum',
  'const',
  'anyOf',
  'allOf',
  '$ref',
  '$defs',
  'definitions',
  'description',
  'title',
  'default',
]);

/** Constraints the decoder does not enforce: said in the description instead. */
const DESCRIBED = new Set([
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
]);

/** String formats the decoder knows; others are described. */
const FORMATS = new Set([
  'date-time',
  'time',
  'date',
  'duration',
  'email',
  'hostname',
  'uri',
  'ipv4',
  'ipv6',
  'uuid',
]);

const SUBSCHEMA_LISTS = new Set(['anyOf', 'allOf']);

/** The schema with `$schema` removed: what an ordinary tool's `inputSchema.json` carries. */
export function plainBedrockSchema(schema: JsonSchema): JsonSchema {
  const { $schema: _meta, ...rest } = schema;
  return rest;
}

/** `schema` as Bedrock's constrained decoding takes it; `warnings` collects every change. */
export function toBedrockConstrained(schema: JsonSchema, warnings: SchemaWarnings): JsonSchema {
  const convert = (node: unknown, path: (string | number)[]): unknown => {
    if (!isRecord(node)) return node;
    const out: Json = {};
    const described: string[] = [];
    for (const [key, value] of Object.entries(node)) {
      if (key === '$schema') continue;
      if (key === 'oneOf') {
        warnings.changed('oneOf', path, 'sent as anyOf (the decoder has no oneOf)');
        out.anyOf = (value as unknown[]).map((item, i) => convert(item, [...path, 'anyOf', i]));
        continue;
      }
      if (key === 'format') {
        if (typeof value === 'string' && FORMATS.has(value)) out.format = value;
        else describe(key, value, path, described, warnings);
        continue;
      }
      if (key === 'minItems' && (value === 0 || value === 1)) {
        out.minItems = value;
        continue;
      }
      if (DESCRIBED.has(key)) {
        describe(key, value, path, described, warnings);
        continue;
      }
      if (key === 'additionalProperties') continue; // closed below
      if (!KEPT.has(key)) {
        warnings.dropped(
          key,
          path,
          'Bedrock structured output does not take it; the answer is still validated against it',
        );
        continue;
      }
      if ((key === 'properties' || key === '$defs' || key === 'definitions') && isRecord(value)) {
        out[key] = Object.fromEntries(
          Object.entries(value).map(([name, child]) => [name, convert(child, [...path, key, name])]),
        );
      } else if (SUBSCHEMA_LISTS.has(key) && Array.isArray(value)) {
        out[key] = value.map((item, i) => convert(item, [...path, key, i]));
      } else if (key === 'items') {
        out.items = Array.isArray(value)
          ? value.map((item, i) => convert(item, [...path, key, i]))
          : convert(value, [...path, key]);
      } else out[key] = value;
    }
    if (isObjectNode(out)) {
      const open = node.additionalProperties;
      if (open !== undefined && open !== false) {
        warnings.changed(
          'additionalProperties',
          path,
          'set to false: Bedrock structured output takes closed objects only (keys outside `properties` cannot be produced)',
        );
      }
      out.additionalProperties = false;
    }
    if (described.length > 0) {
      const note = described.join('; ');
      out.description =
        typeof out.description === 'string' && out.description ? `${out.description} (${note})` : note;
    }
    return out;
  };
  return convert(schema, []) as JsonSchema;
}

function isObjectNode(node: Json): boolean {
  return (
    node.type === 'object' ||
    (Array.isArray(node.type) && node.type.includes('object')) ||
    (node.type === undefined && isRecord(node.properties))
  );
}

function describe(
  keyword: string,
  value: unknown,
  path: readonly (string | number)[],
  described: string[],
  warnings: SchemaWarnings,
): void {
  described.push(`${keyword}: ${JSON.stringify(value)}`);
  warnings.changed(
    keyword,
    path,
    'moved into the description (Bedrock structured output does not enforce it; the answer is still validated against it)',
  );
}
