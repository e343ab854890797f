/**
 * Validation against the caller's schema: a Standard Schema validates itself (and may transform the value:
 * its output is what the caller gets); a JSON Schema is compiled once with Ajv (draft 2020-12, formats on),
 * loaded on first use so that a client that never validates never pays for it.
 */
import { createRequire } from 'node:module';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { JsonSchema, SchemaInput } from '../spec/tools.ts';
import { isStandardSchema } from './json-schema.ts';

export interface ValidationIssue {
  /** Where: `$`, `$.items.0.name`. */
  path: string;
  message: string;
}

export type ValidationOutcome<T = unknown> =
  | { ok: true; value: T }
  | { ok: false; issues: ValidationIssue[] };

export type Validator<T = unknown> = (value: unknown) => Promise<ValidationOutcome<T>>;

interface AjvLike {
  compile(schema: object): ((value: unknown) => boolean) & {
    errors?: Array<{ instancePath: string; message?: string; params?: unknown }> | null;
  };
}

let ajv: AjvLike | undefined;
function getAjv(): AjvLike {
  if (!ajv) {
    const require = createRequire(import.meta.url);
    const Ajv2020 = require('ajv/dist/2020.js') as { default: new (options: object) => AjvLike };
    const addFormats = require('ajv-formats') as { default: (ajv: AjvLike) => void };
    // strict: false — schemas from the field carry keywords Ajv does not know (`propertyOrdering`, …).
    ajv = new Ajv2020.default({ strict: false, allErrors: true, validateFormats: true });
    addFormats.default(ajv);
  }
  return ajv;
}

const compiled = new WeakMap<object, ReturnType<AjvLike['compile']>>();

function pathFromPointer(pointer: string): string {
  if (!pointer) return '$';
  return `$${pointer.replace(/\//g, '.').replace(/~1/g, '/').replace(/~0/g, '~')}`;
}

/** Validates `value` against a JSON Schema; the value is returned unchanged when it passes. */
export function validateJsonSchema(schema: JsonSchema, value: unknown): ValidationOutcome {
  let validate = compiled.get(schema);
  if (!validate) {
    // The meta-schema reference of a draft-07 schema would make the 2020-12 compiler refuse it.
    const { $schema: _metaSchema, ...body } = schema;
    validate = getAjv().compile(body);
    compiled.set(schema, validate);
  }
  if (validate(value)) return { ok: true, value };
  const issues = (validate.errors ?? []).map((error) => ({
    path: pathFromPointer(error.instancePath),
    message: error.message ?? 'is invalid',
  }));
  return { ok: false, issues: issues.length > 0 ? issues : [{ path: '$', message: 'is invalid' }] };
}

function standardPath(path: StandardSchemaV1.Issue['path']): string {
  if (!path || path.length === 0) return '$';
  return `$.${path.map((segment) => String(typeof segment === 'object' ? segment.key : segment)).join('.')}`;
}

/** A validator for the caller's schema (Standard Schema first: its output type is what the caller expects). */
export function createValidator<T = unknown>(schema: SchemaInput<T>): Validator<T> {
  if (isStandardSchema(schema)) {
    const standard = (schema as StandardSchemaV1<unknown, T>)['~standard'];
    return async (value) => {
      const result = await standard.validate(value);
      if (result.issues) {
        return {
          ok: false,
          issues: result.issues.map((issue) => ({ path: standardPath(issue.path), message: issue.message })),
        };
      }
      return { ok: true, value: result.value };
    };
  }
  const json = schema as JsonSchema;
  return async (value) => validateJsonSchema(json, value) as ValidationOutcome<T>;
}

/** Issues as one line each, for error messages: `$.age: must be integer`. */
export function formatIssues(issues: readonly ValidationIssue[], limit = 5): string {
  const shown = issues.slice(0, limit).map((issue) => `${issue.path}: ${issue.message}`);
  if (issues.length > limit) shown.push(`… and ${issues.length - limit} more`);
  return shown.join('; ');
}
