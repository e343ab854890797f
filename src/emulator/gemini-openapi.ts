/**
 * Gemini's OpenAPI-style `Schema` (`parameters`, `responseSchema`) in the emulator: checked as the real
 * service parses it — a key the message does not have, a type outside its enum, a non-string enum value are
 * "Invalid JSON payload received" 400s, every one listed, with the proto path in snake case
 * (`tools[0].function_declarations[0].parameters.properties[1].value.items`); then an OBJECT with an empty
 * `properties` is refused — and read back into JSON Schema for the planner.
 */
import { GEMINI_SCHEMA_FIELDS } from '../schema/gemini.ts';
import { isRecord, type Json } from '../spec/json.ts';
import type { JsonSchema } from '../spec/tools.ts';

const TYPES = new Set(['TYPE_UNSPECIFIED', 'STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT']);
const TYPE_ENUM = 'type.googleapis.com/google.ai.generativelanguage.v1beta.Type';
const BOUNDS = new Set(['minimum', 'maximum', 'minItems', 'maxItems', 'minLength', 'maxLength']);

/** One refusal: the message line, and the field it is about. */
export interface FieldViolation {
  field: string;
  description: string;
}

/** The proto path of `properties[name]`: map entries are numbered, their schema is `value`. */
function propertyPath(path: string, index: number): string {
  return `${path}.properties[${index}].value`;
}

/** What the parser refuses in `schema` at `path` (empty when it parses). */
export function parseViolations(schema: unknown, path: string): FieldViolation[] {
  const found: FieldViolation[] = [];
  const visit = (node: unknown, at: string) => {
    if (!isRecord(node)) return;
    for (const [key, value] of Object.entries(node)) {
      if (!GEMINI_SCHEMA_FIELDS.has(key)) {
        found.push({
          field: at,
          description: `Invalid JSON payload received. Unknown name "${key}" at '${at}': Cannot find field.`,
        });
        continue;
      }
      if (key === 'type' && (typeof value !== 'string' || !TYPES.has(value.toUpperCase()))) {
        found.push({
          field: `${at}.type`,
          description: `Invalid value at '${at}.type' (${TYPE_ENUM}), ${JSON.stringify(value)}`,
        });
      } else if (key === 'enum' && Array.isArray(value)) {
        value.forEach((item, i) => {
          if (typeof item !== 'string') {
            found.push({
              field: `${at}.enum[${i}]`,
              description: `Invalid value at '${at}.enum[${i}]' (TYPE_STRING), ${JSON.stringify(item)}`,
            });
          }
        });
      } else if (key === 'properties' && isRecord(value)) {
        Object.values(value).forEach((property, i) => {
          visit(property, propertyPath(at, i));
        });
      } else if (key === 'items') visit(value, `${at}.items`);
      else if (key === 'anyOf' && Array.isArray(value)) {
        value.forEach((branch, i) => {
          visit(branch, `${at}.any_of[${i}]`);
        });
      }
    }
  };
  visit(schema, path);
  return found;
}

/** The check after parsing: an OBJECT's `properties`, when given, must not be empty. */
export function semanticViolation(schema: unknown, path: string): string | undefined {
  if (!isRecord(schema)) return undefined;
  const type = typeof schema.type === 'string' ? schema.type.toUpperCase() : undefined;
  if (type === 'OBJECT' && isRecord(schema.properties) && Object.keys(schema.properties).length === 0) {
    return `${path}.properties: should be non-empty for OBJECT type`;
  }
  if (isRecord(schema.properties)) {
    for (const [name, property] of Object.entries(schema.properties)) {
      const found = semanticViolation(property, `${path}.properties[${name}]`);
      if (found) return found;
    }
  }
  if (isRecord(schema.items)) return semanticViolation(schema.items, `${path}.items`);
  return undefined;
}

/** The JSON Schema an OpenAPI-style schema means (for the planner's instances). */
export function toJsonSchema(schema: unknown): JsonSchema {
  if (!isRecord(schema)) return {};
  const out: Json = {};
  const type = typeof schema.type === 'string' ? schema.type.toLowerCase() : undefined;
  if (type && type !== 'type_unspecified') out.type = type;
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' && isRecord(value)) {
      out.properties = Object.fromEntries(
        Object.entries(value).map(([name, item]) => [name, toJsonSchema(item)]),
      );
    } else if (key === 'items') out.items = toJsonSchema(value);
    else if (key === 'anyOf' && Array.isArray(value)) out.anyOf = value.map(toJsonSchema);
    else if (key === 'enum' && Array.isArray(value)) {
      out.enum = type === 'integer' || type === 'number' ? value.map(Number) : value;
    } else if (key === 'format' && value === 'enum') continue;
    else if (key === 'required' || key === 'format' || key === 'pattern') out[key] = value;
    else if (BOUNDS.has(key)) out[key] = Number(value); // int64 fields may come as strings
  }
  return out;
}
