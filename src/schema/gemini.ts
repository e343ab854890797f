/**
 * JSON Schema → Gemini's two schema dialects.
 *
 * - Gemini 2.5 and later read JSON Schema itself (`parametersJsonSchema`, `responseJsonSchema`): only the
 *   `$schema` meta keyword is removed (`toGeminiJsonSchema`).
 * - Older models read the `Schema` message, a subset of OpenAPI 3.0 (`parameters`, `responseSchema`) that
 *   answers 400 to any key it does not know (`Unknown name "additionalProperties" at …: Cannot find field.`).
 *   `toGeminiOpenApi` keeps the keys that message has, rewrites what it can say another way (a type list or
 *   an `anyOf` with a null branch → `nullable`, `oneOf` → `anyOf`, `const` and non-string enums → string
 *   enums, `allOf` of objects → one object, local `$ref`s inlined) and drops the rest — each change and each
 *   drop said in a warning (the answer is still validated against the caller's schema). A recursive `$ref`
 *   cannot be inlined: that is an error.
 *
 * @see https://ai.google.dev/api/caching#Schema
 * @see https://ai.google.dev/gemini-api/docs/structured-output
 */
import { isRecord } from '../spec/json.ts';
import type { JsonSchema } from '../spec/tools.ts';
import { hasRefs, inlineRefs, type SchemaWarnings } from './json-schema.ts';

type Json = Record<string, unknown>;
type Path = (string | number)[];

/** The fields of Gemini's `Schema` message (v1beta): any other key is a 400 `Unknown name`. */
export const GEMINI_SCHEMA_FIELDS: ReadonlySet<string> = new Set([
  'type',
  'format',
  'title',
  'description',
  'nullable',
  'enum',
  'maxItems',
  'minItems',
  'properties',
  'required',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
  'pattern',
  'example',
  'anyOf',
  'propertyOrdering',
  'default',
  'items',
  'minimum',
  'maximum',
]);

/** The fields of the `Schema` message that the converter passes through unchanged. */
const KEPT = new Set([
  'title',
  'description',
  'nullable',
  'default',
  'example',
  'pattern',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'minimum',
  'maximum',
  'propertyOrdering',
]);

/** Keywords with no meaning for the answer's shape: left out without a warning. */
const SILENT = new Set(['$schema', '$id', '$comment', '$defs', 'definitions']);

/** The `format` values the Gemini API accepts, per type (others fail the request). */
const FORMATS: Readonly<Record<string, readonly string[]>> = {
  string: ['date-time', 'enum'],
  number: ['float', 'double', 'enum'],
  integer: ['int32', 'int64', 'enum'],
};

const WHY_DROPPED = "not in Gemini's OpenAPI schema subset; the answer is still validated against it";

/** The schema for a JSON Schema field (`parametersJsonSchema`, `responseJsonSchema`). */
export function toGeminiJsonSchema(schema: JsonSchema): JsonSchema {
  const { $schema: _meta, ...rest } = schema;
  return rest;
}

/** True for an object schema with no properties (a tool that takes no arguments). */
export function isEmptyObjectSchema(schema: JsonSchema): boolean {
  const properties = schema.properties;
  const noProperties =
    properties === undefined || (isRecord(properties) && Object.keys(properties).length === 0);
  return (
    (schema.type === 'object' || (schema.type === undefined && isRecord(properties))) &&
    noProperties &&
    !isRecord(schema.additionalProperties) &&
    schema.anyOf === undefined &&
    schema.oneOf === undefined &&
    schema.allOf === undefined
  );
}

export interface OpenApiOptions {
  /** Add `propertyOrdering` (the schema's own order) to every object: Gemini 2.0 answers in that order. */
  propertyOrdering?: boolean;
}

/**
 * The schema for an OpenAPI field (`parameters`, `responseSchema`). `onError` is called (and must throw)
 * for what cannot be converted at all: a recursive or unresolvable `$ref`.
 */
export function toGeminiOpenApi(
  schema: JsonSchema,
  warnings: SchemaWarnings,
  onError: (message: string) => never,
  options: OpenApiOptions = {},
): JsonSchema {
  const inlined = hasRefs(schema) ? inlineRefs(schema, onError) : schema;
  return new OpenApiConverter(warnings, options).convert(inlined, []);
}

class OpenApiConverter {
  readonly #warnings: SchemaWarnings;
  readonly #options: OpenApiOptions;

  constructor(warnings: SchemaWarnings, options: OpenApiOptions) {
    this.#warnings = warnings;
    this.#options = options;
  }

  convert(node: unknown, path: Path): Json {
    const out: Json = {};
    if (!isRecord(node)) return this.#typed(out, node, path);
    let nullable = node.nullable === true;
    const type = node.type;
    if (Array.isArray(type)) {
      const types = type.filter((item) => item !== 'null');
      if (types.length < type.length) nullable = true;
      if (types.length === 1) out.type = types[0];
      else if (types.length > 1) out.anyOf = types.map((item) => ({ type: item }));
      this.#warnings.changed(
        'type',
        path,
        types.length > 1 ? 'is sent as anyOf (a type list)' : 'is sent as one type with nullable',
      );
    } else if (type === 'null') {
      nullable = true;
      this.#warnings.changed('type', path, '"null" is sent as nullable');
    } else if (typeof type === 'string') out.type = type;

    for (const [key, value] of Object.entries(node)) {
      const at = [...path, key];
      switch (key) {
        case 'type':
        case 'nullable':
          break;
        case 'properties':
          if (isRecord(value)) this.#properties(out, value, at);
          break;
        case 'required':
          if (Array.isArray(value)) {
            const known = isRecord(node.properties) ? node.properties : {};
            const required = value.filter((name) => typeof name === 'string' && Object.hasOwn(known, name));
            if (required.length > 0) out.required = required;
          }
          break;
        case 'items':
          if (isRecord(value) || value === true) out.items = this.convert(value, at);
          else this.#warnings.dropped('items', path, 'tuple items are not in the OpenAPI subset');
          break;
        case 'anyOf':
        case 'oneOf':
          if (key === 'oneOf') this.#warnings.changed('oneOf', path, 'is sent as anyOf');
          if (Array.isArray(value)) nullable = this.#anyOf(out, value, at) || nullable;
          break;
        case 'allOf':
          if (Array.isArray(value)) this.#allOf(out, value, at);
          break;
        case 'const':
          if (value === null) nullable = true;
          else out.enum = [typeof value === 'string' ? value : JSON.stringify(value)];
          this.#warnings.changed('const', path, 'is sent as a one-value enum');
          break;
        case 'enum':
          if (Array.isArray(value)) nullable = this.#enum(out, value, node.type, path) || nullable;
          break;
        case 'format':
          this.#format(out, value, path);
          break;
        case 'examples':
          if (Array.isArray(value) && value.length > 0) out.example = value[0];
          this.#warnings.changed('examples', path, 'is sent as example (its first value)');
          break;
        default:
          if (KEPT.has(key)) out[key] = value;
          else if (!SILENT.has(key)) this.#warnings.dropped(key, path, WHY_DROPPED);
      }
    }
    if (nullable) out.nullable = true;
    return this.#typed(out, node, path);
  }

  /** Every schema node needs a type (or anyOf): inferred from its keywords, else said. */
  #typed(out: Json, node: unknown, path: Path): Json {
    if (out.type !== undefined || out.anyOf !== undefined) return out;
    if (out.properties !== undefined || (isRecord(node) && isRecord(node.properties))) out.type = 'object';
    else if (out.items !== undefined) out.type = 'array';
    else if (out.enum !== undefined) out.type = 'string';
    else {
      out.type = 'string';
      this.#warnings.changed(
        'type',
        path,
        'is missing (any value), which the OpenAPI subset cannot say: sent as string',
      );
    }
    return out;
  }

  #properties(out: Json, properties: Json, path: Path): void {
    const converted: Json = {};
    for (const [name, property] of Object.entries(properties))
      converted[name] = this.convert(property, [...path, name]);
    const names = Object.keys(converted);
    // An empty `properties` is a 400 ("should be non-empty for OBJECT type"): an object with none says the same.
    if (names.length === 0) return;
    out.properties = converted;
    if (this.#options.propertyOrdering && out.propertyOrdering === undefined) out.propertyOrdering = names;
  }

  /** Branches of an `anyOf`; a null branch becomes `nullable`. True when there was one. */
  #anyOf(out: Json, branches: unknown[], path: Path): boolean {
    const isNull = (branch: unknown) =>
      isRecord(branch) && branch.type === 'null' && Object.keys(branch).length === 1;
    const kept = branches.filter((branch) => !isNull(branch));
    if (kept.length < branches.length)
      this.#warnings.changed('anyOf', path, 'has its null branch sent as nullable');
    const converted = kept.map((branch, index) => this.convert(branch, [...path, index]));
    if (converted.length === 1) {
      for (const [key, value] of Object.entries(converted[0]!)) if (!(key in out)) out[key] = value;
    } else if (converted.length > 1) out.anyOf = [...((out.anyOf as Json[] | undefined) ?? []), ...converted];
    return kept.length < branches.length;
  }

  /** `allOf` of object schemas → one object with every branch's properties and required names. */
  #allOf(out: Json, branches: unknown[], path: Path): void {
    this.#warnings.changed('allOf', path, 'is sent as one schema with every branch merged');
    for (const [index, branch] of branches.entries()) {
      const converted = this.convert(branch, [...path, index]);
      for (const [key, value] of Object.entries(converted)) {
        if (key === 'properties' && isRecord(value))
          out.properties = { ...(out.properties as Json), ...value };
        else if (key === 'required' && Array.isArray(value))
          out.required = [...new Set([...((out.required as string[]) ?? []), ...value])];
        else if (!(key in out)) out[key] = value;
      }
    }
  }

  /** Enum values must be strings; a null value becomes `nullable`. True when there was one. */
  #enum(out: Json, values: unknown[], type: unknown, path: Path): boolean {
    const kept = values.filter((value) => value !== null);
    if (kept.every((value) => typeof value === 'string')) out.enum = kept;
    else {
      out.enum = kept.map((value) => (typeof value === 'string' ? value : JSON.stringify(value)));
      if (type === 'number' || type === 'integer') out.format = 'enum';
      this.#warnings.changed(
        'enum',
        path,
        'values are sent as strings (the OpenAPI subset has string enums only)',
      );
    }
    return kept.length < values.length;
  }

  #format(out: Json, format: unknown, path: Path): void {
    const type = typeof out.type === 'string' ? out.type : undefined;
    if (typeof format === 'string' && type !== undefined && FORMATS[type]?.includes(format)) {
      out.format = format;
      return;
    }
    this.#warnings.dropped(
      'format',
      path,
      `Gemini takes only ${Object.entries(FORMATS)
        .map(([name, list]) => `${list.join('/')} for ${name}s`)
        .join(', ')}; the answer is still validated against it`,
    );
  }
}
