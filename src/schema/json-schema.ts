/**
 * Schemas as the library holds them: the caller's schema (a JSON Schema object, or a Standard Schema such as
 * zod 4, valibot or arktype that exposes its JSON Schema through Standard JSON Schema) stays the source of
 * truth for validation; what goes on the wire is plain JSON Schema derived from it, then adapted per
 * provider by the dialect transforms beside this file.
 *
 * @see https://standardschema.dev/ (Standard Schema and Standard JSON Schema)
 */
import type { StandardJSONSchemaV1, StandardSchemaV1 } from '@standard-schema/spec';
import { LLMBadRequestError } from '../spec/errors.ts';
import { isRecord } from '../spec/json.ts';
import type { JsonSchema, SchemaInput, Warning } from '../spec/tools.ts';

/** True for a Standard Schema (it can validate). */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  const standard = isRecord(value) || typeof value === 'function' ? (value as Json)['~standard'] : undefined;
  return isRecord(standard) && standard.version === 1 && typeof standard.validate === 'function';
}

type Json = Record<string, unknown>;

function standardJsonSchema(value: unknown): StandardJSONSchemaV1.Converter | undefined {
  const standard = isRecord(value) || typeof value === 'function' ? (value as Json)['~standard'] : undefined;
  if (!isRecord(standard)) return undefined;
  const converter = standard.jsonSchema;
  return isRecord(converter) && typeof converter.input === 'function'
    ? (converter as unknown as StandardJSONSchemaV1.Converter)
    : undefined;
}

/**
 * The plain JSON Schema of `schema`. A Standard Schema must expose Standard JSON Schema (zod ≥ 4.2,
 * arktype ≥ 2.1.28, valibot through `toStandardJsonSchema`); `field` names the request field in errors.
 */
export function toJsonSchema(schema: SchemaInput, field: string): JsonSchema {
  const converter = standardJsonSchema(schema);
  if (converter) {
    let converted: Record<string, unknown>;
    try {
      // The input side: what the model must produce is what the schema accepts.
      converted = converter.input({ target: 'draft-2020-12' });
    } catch (cause) {
      throw new LLMBadRequestError(
        `Invalid request: \`${field}\` could not be converted to JSON Schema (${(cause as Error)?.message ?? cause})`,
        { cause },
      );
    }
    return converted;
  }
  if (isStandardSchema(schema)) {
    const vendor = (schema as StandardSchemaV1)['~standard'].vendor;
    throw new LLMBadRequestError(
      `Invalid request: \`${field}\` is a ${vendor} Standard Schema without Standard JSON Schema support; use a version that has it (zod ≥ 4.2, arktype ≥ 2.1.28, valibot with \`toStandardJsonSchema\` from @valibot/to-json-schema) or pass a JSON Schema object`,
    );
  }
  if (!isRecord(schema)) {
    throw new LLMBadRequestError(
      `Invalid request: \`${field}\` must be a JSON Schema object or a Standard Schema (got ${schema === null ? 'null' : typeof schema})`,
    );
  }
  return schema;
}

/** True when a JSON Schema describes an object at its root (what tool parameters and most providers need). */
export function isObjectSchema(schema: JsonSchema): boolean {
  if (schema.type === 'object') return true;
  if (Array.isArray(schema.type)) return false;
  return schema.type === undefined && isRecord(schema.properties);
}

/** A JSON pointer-ish path for messages: `$.properties.address.items`. */
export function pathOf(path: readonly (string | number)[]): string {
  return path.length === 0 ? '$' : `$.${path.join('.')}`;
}

/** Collects what a dialect transform dropped or changed, once per keyword and path. */
export class SchemaWarnings {
  readonly list: Warning[] = [];
  readonly #seen = new Set<string>();
  readonly #where: string;

  /** `where` says which schema this is (`tools[0] get_weather`, `responseFormat`) and for whom. */
  constructor(where: string) {
    this.#where = where;
  }

  dropped(keyword: string, path: readonly (string | number)[], why: string): void {
    const at = pathOf(path);
    const key = `${keyword}@${at}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.list.push({
      code: 'schema-keyword-dropped',
      message: `${this.#where}: dropped \`${keyword}\` at ${at} (${why})`,
    });
  }

  changed(keyword: string, path: readonly (string | number)[], how: string): void {
    const at = pathOf(path);
    const key = `~${keyword}@${at}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.list.push({
      code: 'schema-keyword-changed',
      message: `${this.#where}: \`${keyword}\` at ${at} ${how}`,
    });
  }
}

/**
 * Resolves local `$ref`s (`#/$defs/X`, `#/definitions/X`) by inlining, for dialects that have no `$ref`.
 * A recursive reference cannot be inlined: that is an error naming the definition.
 */
export function inlineRefs(schema: JsonSchema, onError: (message: string) => never): JsonSchema {
  const root = schema;
  const resolving: string[] = [];
  const resolve = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(resolve);
    if (!isRecord(node)) return node;
    if (typeof node.$ref === 'string') {
      const ref = node.$ref;
      const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref);
      if (!match) onError(`\`$ref\` ${JSON.stringify(ref)} is not a local definition and cannot be inlined`);
      const defs = root[match[1]!];
      const name = decodeURIComponent(match[2]!.replace(/~1/g, '/').replace(/~0/g, '~'));
      const target = isRecord(defs) ? defs[name] : undefined;
      if (!isRecord(target)) onError(`\`$ref\` ${JSON.stringify(ref)} points to no definition`);
      if (resolving.includes(ref))
        onError(`\`$ref\` ${JSON.stringify(ref)} is recursive and cannot be inlined`);
      resolving.push(ref);
      const { $ref: _ref, ...siblings } = node;
      const inlined = { ...(resolve(target) as Json), ...(resolve(siblings) as Json) };
      resolving.pop();
      return inlined;
    }
    const out: Json = {};
    for (const [key, value] of Object.entries(node)) {
      if (node === root && (key === '$defs' || key === 'definitions')) continue;
      out[key] = resolve(value);
    }
    return out;
  };
  return resolve(schema) as JsonSchema;
}

/** True when the schema has a `$ref` anywhere. */
export function hasRefs(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(hasRefs);
  if (!isRecord(node)) return false;
  if (typeof node.$ref === 'string') return true;
  for (const value of Object.values(node)) if (hasRefs(value)) return true;
  return false;
}
