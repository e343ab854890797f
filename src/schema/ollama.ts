/**
 * JSON Schema → what Ollama keeps of a tool's `parameters`. The server reads them into Go structs
 * (`ToolFunctionParameters`: type, $defs, items, required, properties; `ToolProperty`: anyOf, type, items,
 * description, enum, properties, and on current servers required) and silently drops every other keyword
 * before the chat template shows the tool to the model. This transform sends what survives and says what
 * does not, so that the request we send is the schema the model sees:
 *
 * - local `$ref`s are inlined (a `ToolProperty` has no `$ref`: the property would arrive empty); a recursive
 *   one cannot be, and is an error;
 * - `const` becomes a one-value `enum`, `oneOf` becomes `anyOf` (each with a `schema-keyword-changed` warning);
 * - constraints a model can still read in words (`minimum`, `maxLength`, `pattern`, `format`, `default`, …)
 *   are written into the property's `description`, which Ollama keeps (also a `schema-keyword-changed`);
 * - everything else (`additionalProperties`, `title`, `allOf`, `not`, …) is dropped with a
 *   `schema-keyword-dropped` warning.
 *
 * `items` is kept whole: Ollama holds it as raw JSON, so every keyword inside it reaches the model. The
 * arguments the model sends back are validated against the caller's own schema (`runTools`), so what the
 * model was not told is still enforced.
 *
 * Structured output (`format`) needs no transform: Ollama hands that schema, raw, to its JSON Schema to
 * grammar converter.
 *
 * @see https://github.com/ollama/ollama/blob/main/api/types.go (ToolFunctionParameters, ToolProperty)
 */
import { isRecord } from '../spec/json.ts';
import type { JsonSchema } from '../spec/tools.ts';
import { hasRefs, inlineRefs, type SchemaWarnings } from './json-schema.ts';

type Json = Record<string, unknown>;
type Path = (string | number)[];

/** What `ToolFunctionParameters` keeps at the root. */
const ROOT_KEYWORDS = new Set(['type', '$defs', 'items', 'required', 'properties']);

/** What `ToolProperty` keeps (`required`: current servers; older ones drop it too). */
const PROPERTY_KEYWORDS = new Set([
  'anyOf',
  'type',
  'items',
  'description',
  'enum',
  'properties',
  'required',
]);

/** Constraints Ollama drops that still mean something to a model reading the property's description. */
const DESCRIBED = new Set([
  'format',
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
  'default',
  'examples',
]);

const why = (keyword: string) =>
  `Ollama's tool schema has no \`${keyword}\`; the arguments are still validated against it`;

/**
 * The `parameters` Ollama keeps of `schema` (an object schema), with every change said in `warnings`.
 * `onError` is called for what cannot be sent at all (a recursive `$ref`).
 */
export function toOllamaToolParameters(
  schema: JsonSchema,
  warnings: SchemaWarnings,
  onError: (message: string) => never,
): JsonSchema {
  const source = hasRefs(schema) ? inlineRefs(schema, onError) : schema;
  const out: Json = {};
  if (source.type === undefined) out.type = 'object';
  for (const [key, value] of Object.entries(source)) {
    if (key === '$schema') continue; // says which dialect the document is in; no meaning for the model
    if (key === 'properties' && isRecord(value)) out.properties = properties(value, [key], warnings);
    else if (ROOT_KEYWORDS.has(key)) out[key] = value;
    else warnings.dropped(key, [], why(key));
  }
  return out;
}

function properties(node: Json, path: Path, warnings: SchemaWarnings): Json {
  const out: Json = {};
  for (const [name, schema] of Object.entries(node)) out[name] = property(schema, [...path, name], warnings);
  return out;
}

function property(node: unknown, path: Path, warnings: SchemaWarnings): Json {
  // A boolean schema cannot be read into a struct; `true` (anything) is `{}`, and so, said, is `false`.
  if (!isRecord(node)) {
    if (node === false) warnings.changed('false', path, 'sent as {} (Ollama cannot express “no value”)');
    return {};
  }
  const out: Json = {};
  const notes: string[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (key === 'properties' && isRecord(value)) out.properties = properties(value, [...path, key], warnings);
    else if (key === 'anyOf' || key === 'oneOf') {
      if (!Array.isArray(value)) continue;
      if (key === 'oneOf') warnings.changed('oneOf', path, 'sent as anyOf (Ollama keeps no oneOf)');
      out.anyOf = value.map((branch, i) => property(branch, [...path, key, i], warnings));
    } else if (key === 'const') {
      if (Array.isArray(node.enum)) warnings.dropped(key, path, why(key));
      else {
        warnings.changed('const', path, 'sent as a one-value enum (Ollama keeps no const)');
        out.enum = [value];
      }
    } else if (PROPERTY_KEYWORDS.has(key)) out[key] = value;
    else if (DESCRIBED.has(key)) {
      notes.push(`${key} ${JSON.stringify(value)}`);
      warnings.changed(key, path, `written into the description (${why(key)})`);
    } else warnings.dropped(key, path, why(key));
  }
  if (notes.length > 0) {
    const note = notes.join(', ');
    const given = typeof out.description === 'string' ? out.description : '';
    out.description = given ? `${given} (${note})` : note;
  }
  return out;
}
