/**
 * JSON Schema → OpenAI's strict subset (`response_format.json_schema.strict`, `function.strict`):
 * every object closed (`additionalProperties: false`) with every property required — an optional property
 * becomes required and nullable, and the null the model then writes is removed again before validation
 * (`dropOptionalNulls`). Keywords strict mode does not take are dropped with a warning (the answer is still
 * validated against the caller's schema); constructs it cannot express at all (`allOf`, `not`,
 * conditionals, open maps) make the schema go out non-strict, with a warning saying why.
 *
 * @see https://platform.openai.com/docs/guides/structured-outputs#supported-schemas
 */
import { isRecord } from '../spec/json.ts';
import type { JsonSchema } from '../spec/tools.ts';
import type { SchemaWarnings } from './json-schema.ts';

type Json = Record<string, unknown>;

/** Keywords strict mode accepts (the others are dropped with a warning). */
const STRICT_KEYWORDS = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'anyOf',
  '$ref',
  '$defs',
  'definitions',
  'description',
  'title',
  'pattern',
  'format',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minItems',
  'maxItems',
]);

/** Constructs strict mode cannot express; their presence makes the schema go out with `strict: false`. */
const NOT_STRICT = [
  'allOf',
  'not',
  'if',
  'then',
  'else',
  'patternProperties',
  'dependentRequired',
  'dependentSchemas',
];

/** Why `schema` cannot be strict, or undefined when it can. */
export function whyNotStrict(node: unknown, path: (string | number)[] = []): string | undefined {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const found = whyNotStrict(node[i], [...path, i]);
      if (found) return found;
    }
    return undefined;
  }
  if (!isRecord(node)) return undefined;
  for (const keyword of NOT_STRICT) if (keyword in node) return `\`${keyword}\` at ${where(path)}`;
  if (isRecord(node.additionalProperties))
    return `an open map (\`additionalProperties\` schema) at ${where(path)}`;
  for (const [key, value] of Object.entries(node)) {
    const found = whyNotStrict(value, [...path, key]);
    if (found) return found;
  }
  return undefined;
}

function where(path: readonly (string | number)[]): string {
  return path.length === 0 ? '$' : `$.${path.join('.')}`;
}

function nullable(schema: unknown): Json {
  if (!isRecord(schema)) return { anyOf: [schema, { type: 'null' }] };
  if (typeof schema.type === 'string' && schema.$ref === undefined && schema.anyOf === undefined) {
    const out: Json = { ...schema, type: [schema.type, 'null'] };
    if (Array.isArray(schema.enum) && !schema.enum.includes(null)) out.enum = [...schema.enum, null];
    return out;
  }
  if (Array.isArray(schema.type))
    return schema.type.includes('null') ? schema : { ...schema, type: [...schema.type, 'null'] };
  return { anyOf: [schema, { type: 'null' }] };
}

/** The strict form of `schema` (which `whyNotStrict` accepted). */
export function toOpenAIStrict(schema: JsonSchema, warnings: SchemaWarnings): JsonSchema {
  const convert = (node: unknown, path: (string | number)[]): unknown => {
    if (Array.isArray(node)) return node.map((item, i) => convert(item, [...path, i]));
    if (!isRecord(node)) return node;
    const out: Json = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === '$schema') continue;
      if (key === 'oneOf') {
        warnings.changed('oneOf', path, 'sent as anyOf (strict mode has no oneOf)');
        out.anyOf = convert(value, [...path, key]);
        continue;
      }
      if (!STRICT_KEYWORDS.has(key)) {
        warnings.dropped(
          key,
          path,
          'not supported in OpenAI strict mode; the answer is still validated against it',
        );
        continue;
      }
      if (key === 'properties' && isRecord(value)) {
        const properties: Json = {};
        const required = new Set(Array.isArray(node.required) ? (node.required as string[]) : []);
        for (const [name, property] of Object.entries(value)) {
          const converted = convert(property, [...path, key, name]);
          properties[name] = required.has(name) ? converted : nullable(converted);
        }
        out.properties = properties;
        out.required = Object.keys(properties);
        continue;
      }
      if (key === 'required') continue; // rebuilt from `properties`
      if ((key === '$defs' || key === 'definitions') && isRecord(value)) {
        out[key] = Object.fromEntries(
          Object.entries(value).map(([name, definition]) => [
            name,
            convert(definition, [...path, key, name]),
          ]),
        );
        continue;
      }
      if (key === 'items' || key === 'anyOf') {
        out[key] = convert(value, [...path, key]);
        continue;
      }
      out[key] = value;
    }
    const isObject =
      out.type === 'object' ||
      (Array.isArray(out.type) && out.type.includes('object')) ||
      'properties' in out;
    if (isObject) {
      out.additionalProperties = false;
      if (!('properties' in out)) {
        out.properties = {};
        out.required = [];
      }
    }
    return out;
  };
  return convert(schema, []) as JsonSchema;
}

/**
 * Removes the nulls a strict-mode answer carries for properties that were optional and not nullable in
 * the caller's schema, so that the caller's schema accepts the answer.
 */
export function dropOptionalNulls(schema: unknown, value: unknown, root: unknown = schema): unknown {
  if (!isRecord(schema)) return value;
  if (typeof schema.$ref === 'string') {
    const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(schema.$ref);
    const defs = match && isRecord(root) ? root[match[1]!] : undefined;
    return dropOptionalNulls(isRecord(defs) ? defs[match![2]!] : undefined, value, root);
  }
  if (Array.isArray(value)) {
    const items = schema.items;
    return isRecord(items) ? value.map((item) => dropOptionalNulls(items, item, root)) : value;
  }
  if (!isRecord(value)) return value;
  const properties = isRecord(schema.properties) ? schema.properties : undefined;
  if (!properties) return value;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const out: Json = {};
  for (const [key, item] of Object.entries(value)) {
    const property = properties[key];
    if (item === null && !required.has(key) && !allowsNull(property)) continue;
    out[key] = property === undefined ? item : dropOptionalNulls(property, item, root);
  }
  return out;
}

function allowsNull(schema: unknown): boolean {
  if (!isRecord(schema)) return schema === true || schema === undefined;
  if (schema.type === 'null' || (Array.isArray(schema.type) && schema.type.includes('null'))) return true;
  if (schema.nullable === true || schema.const === null) return true;
  if (Array.isArray(schema.enum) && schema.enum.includes(null)) return true;
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = schema[key];
    if (Array.isArray(branches) && branches.some(allowsNull)) return true;
  }
  return (
    schema.type === undefined &&
    schema.$ref === undefined &&
    schema.enum === undefined &&
    schema.anyOf === undefined
  );
}
