/**
 * JSON Schema → what Anthropic's constrained decoding takes (`output_config.format` and tools with
 * `strict: true`), by the rules of the official SDK's `transformJSONSchema`: every object closed
 * (`additionalProperties: false`), `oneOf` sent as `anyOf`, string formats and `minItems` only where the
 * decoder has them, and every other constraint (`minimum`, `maxLength`, `pattern`, `default`, …) moved into
 * the node's `description` as text — so the model still reads it — with a warning for each. The answer is
 * always validated against the caller's own schema, so nothing the decoder could not enforce is lost.
 *
 * Plain tools (`strict` unset) go out as the caller wrote them: the API takes any JSON Schema there.
 *
 * @see https://platform.claude.com/docs/en/build-with-claude/structured-outputs
 * @see https://github.com/anthropics/anthropic-sdk-typescript/blob/main/src/lib/transform-json-schema.ts
 */
import { isRecord } from '../spec/json.ts';
import type { JsonSchema } from '../spec/tools.ts';
import { pathOf, type SchemaWarnings } from './json-schema.ts';

type Json = Record<string, unknown>;

/** The string formats the constrained decoder enforces; others are moved into the description. */
export const ANTHROPIC_STRING_FORMATS: ReadonlySet<string> = new Set([
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

const COMBINATORS = ['anyOf', 'oneOf', 'allOf'] as const;
/** Keys that give a node a shape the decoder can follow. */
const SHAPED = ['type', 'enum', 'const', '$ref', 'properties', ...COMBINATORS];

const isPrimitive = (value: unknown): boolean => value === null || typeof value !== 'object';

function hasType(node: Json, type: string): boolean {
  return node.type === type || (Array.isArray(node.type) && node.type.includes(type));
}

/**
 * Why the decoder cannot take `schema` at all — a node that says nothing of its shape (no `type`, no
 * literals, no combinator, such as `{}` for "any value") — or undefined when it can.
 */
export function whyNotConstrained(node: unknown, path: (string | number)[] = []): string | undefined {
  if (!isRecord(node)) return `a schema that allows anything at ${pathOf(path)}`;
  if (!SHAPED.some((key) => node[key] !== undefined)) return `a schema with no type at ${pathOf(path)}`;
  const children: Array<[unknown, (string | number)[]]> = [];
  for (const key of ['$defs', 'definitions', 'properties'] as const) {
    const group = node[key];
    if (isRecord(group))
      for (const [name, child] of Object.entries(group)) children.push([child, [...path, key, name]]);
  }
  for (const key of COMBINATORS) {
    const branches = node[key];
    if (!Array.isArray(branches)) continue;
    branches.forEach((branch, i) => {
      children.push([branch, [...path, key, i]]);
    });
  }
  if (node.items !== undefined && !Array.isArray(node.items)) children.push([node.items, [...path, 'items']]);
  for (const [child, at] of children) {
    const found = whyNotConstrained(child, at);
    if (found) return found;
  }
  return undefined;
}

/** The constrained form of `schema` (one `whyNotConstrained` accepts), with what changed said in `warnings`. */
export function toAnthropicConstrained(schema: JsonSchema, warnings: SchemaWarnings): JsonSchema {
  return convert(schema, [], warnings) as JsonSchema;
}

function convert(given: unknown, path: (string | number)[], warnings: SchemaWarnings): unknown {
  if (!isRecord(given)) return given;
  const rest: Json = { ...given };
  const out: Json = {};
  const take = (key: string): unknown => {
    const value = rest[key];
    delete rest[key];
    return value;
  };
  delete rest.$schema; // names the dialect; constrains nothing

  for (const key of ['$defs', 'definitions'] as const) {
    const defs = take(key);
    if (!isRecord(defs)) continue;
    out[key] = Object.fromEntries(
      Object.entries(defs).map(([name, definition]) => [
        name,
        convert(definition, [...path, key, name], warnings),
      ]),
    );
  }

  const ref = take('$ref');
  if (ref !== undefined) {
    out.$ref = ref;
    for (const key of Object.keys(rest))
      warnings.dropped(key, path, 'the decoder takes nothing beside `$ref`');
    return out;
  }

  if (Array.isArray(rest.enum) && rest.enum.length > 0 && rest.enum.every(isPrimitive))
    out.enum = take('enum');
  if (rest.const !== undefined && isPrimitive(rest.const)) out.const = take('const');
  const literal = 'enum' in out || 'const' in out;
  const type = take('type') ?? (rest.properties !== undefined ? 'object' : undefined);
  // Beside literals the type says nothing more (the SDK drops it too).
  if (!literal && type !== undefined) out.type = type;

  // One combinator per node, as the SDK sends it: anyOf, else oneOf (as anyOf), else allOf.
  let combinator: string | undefined;
  for (const key of COMBINATORS) {
    const branches = take(key);
    if (!Array.isArray(branches)) continue;
    if (combinator) {
      warnings.dropped(
        key,
        path,
        `the decoder takes one combinator per node and \`${combinator}\` came first`,
      );
      continue;
    }
    if (key === 'oneOf') warnings.changed('oneOf', path, 'sent as anyOf (the decoder has no oneOf)');
    out[key === 'allOf' ? 'allOf' : 'anyOf'] = branches.map((branch, i) =>
      convert(branch, [...path, key, i], warnings),
    );
    combinator = key;
  }

  for (const key of ['description', 'title'] as const) {
    const value = take(key);
    if (value !== undefined) out[key] = value;
  }

  const node = { type } as Json;
  if (!literal && hasType(node, 'object')) {
    const properties = take('properties');
    out.properties = isRecord(properties)
      ? Object.fromEntries(
          Object.entries(properties).map(([name, property]) => [
            name,
            convert(property, [...path, 'properties', name], warnings),
          ]),
        )
      : {};
    const additional = take('additionalProperties');
    if (additional !== undefined && additional !== false) {
      warnings.changed(
        'additionalProperties',
        path,
        'forced to false (the decoder allows no keys beyond `properties`); the answer is still validated against it',
      );
    }
    out.additionalProperties = false;
    const required = take('required');
    if (required !== undefined) out.required = required;
  }
  if (
    !literal &&
    hasType(node, 'string') &&
    typeof rest.format === 'string' &&
    ANTHROPIC_STRING_FORMATS.has(rest.format)
  ) {
    out.format = take('format');
  }
  if (!literal && hasType(node, 'array')) {
    const items = take('items');
    if (items !== undefined) out.items = convert(items, [...path, 'items'], warnings);
    if (rest.minItems === 0 || rest.minItems === 1) out.minItems = take('minItems');
  }

  const leftover = Object.keys(rest);
  if (leftover.length > 0) {
    for (const key of leftover) {
      warnings.changed(
        key,
        path,
        'moved into the description (the decoder does not enforce it); the answer is still validated against it',
      );
    }
    const text = `{${leftover.map((key) => `${key}: ${JSON.stringify(rest[key])}`).join(', ')}}`;
    out.description =
      typeof out.description === 'string' && out.description ? `${out.description}\n\n${text}` : text;
  }
  return out;
}
