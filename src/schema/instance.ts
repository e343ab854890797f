/**
 * A deterministic instance of a JSON Schema: the same schema and seed always give the same value, and the
 * value validates (every property present, enums, consts, formats, lengths, bounds and simple patterns
 * respected). The emulator answers tool calls and structured-output requests with these, so that tool loops
 * and extraction can be tested offline.
 */
import { createHash } from 'node:crypto';
import { isRecord } from '../spec/json.ts';
import type { JsonSchema } from '../spec/tools.ts';

type Json = Record<string, unknown>;

const FORMATS: Record<string, string> = {
  email: 'ada@example.com',
  'date-time': '2026-01-15T09:30:00Z',
  date: '2026-01-15',
  time: '09:30:00Z',
  duration: 'P1D',
  uri: 'https://example.com/resource',
  'uri-reference': '/resource',
  url: 'https://example.com/resource',
  uuid: '3f2b8c1e-6d4a-4b7e-9c1f-2a5d8e0b7c64',
  ipv4: '192.0.2.10',
  ipv6: '2001:db8::10',
  hostname: 'example.com',
  'idn-hostname': 'example.com',
  'idn-email': 'ada@example.com',
  'json-pointer': '/a/b',
  regex: '^a+$',
};

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];

export class InstanceGenerator {
  readonly #root: JsonSchema;
  readonly #seed: Buffer;
  #counter = 0;
  #depth = 0;

  constructor(root: JsonSchema, seed = '') {
    this.#root = root;
    this.#seed = createHash('sha256').update(seed).digest();
  }

  /** A deterministic number in [0, n) that differs from call to call. */
  #pick(n: number): number {
    const byte = this.#seed[this.#counter++ % this.#seed.length]!;
    return n <= 1 ? 0 : (byte + this.#counter) % n;
  }

  instance(schema: unknown = this.#root, name = 'value'): unknown {
    if (schema === true || schema === undefined) return `${name} example`;
    if (!isRecord(schema)) return null;
    if (this.#depth > 12) return null;
    this.#depth++;
    try {
      return this.#instance(schema, name);
    } finally {
      this.#depth--;
    }
  }

  #instance(schema: Json, name: string): unknown {
    if (typeof schema.$ref === 'string') return this.instance(this.#resolve(schema.$ref), name);
    if ('const' in schema) return schema.const;
    if (Array.isArray(schema.enum) && schema.enum.length > 0)
      return schema.enum[this.#pick(schema.enum.length)];
    if (Array.isArray(schema.allOf)) {
      const merged: Json = {};
      for (const part of schema.allOf) if (isRecord(part)) mergeInto(merged, part);
      const { allOf: _allOf, ...rest } = schema;
      return this.instance(mergeInto(merged, rest), name);
    }
    const union = (Array.isArray(schema.anyOf) ? schema.anyOf : schema.oneOf) as unknown[] | undefined;
    if (Array.isArray(union) && union.length > 0) {
      const branch = union.find((option) => !(isRecord(option) && option.type === 'null')) ?? union[0];
      return this.instance(branch, name);
    }
    const type = pickType(schema);
    switch (type) {
      case 'object':
        return this.#object(schema);
      case 'array':
        return this.#array(schema, name);
      case 'integer':
      case 'number':
        return this.#number(schema, type === 'integer');
      case 'boolean':
        return this.#pick(2) === 0;
      case 'null':
        return null;
      default:
        return this.#string(schema, name);
    }
  }

  #resolve(ref: string): unknown {
    const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref);
    if (!match) return {};
    const defs = this.#root[match[1]!];
    return isRecord(defs) ? defs[match[2]!] : {};
  }

  #object(schema: Json): Json {
    const out: Json = {};
    const properties = isRecord(schema.properties) ? schema.properties : {};
    for (const [key, property] of Object.entries(properties)) out[key] = this.instance(property, key);
    const required = Array.isArray(schema.required) ? schema.required : [];
    for (const key of required) {
      if (typeof key === 'string' && !(key in out)) {
        out[key] = this.instance(
          isRecord(schema.additionalProperties) ? schema.additionalProperties : true,
          key,
        );
      }
    }
    const min = typeof schema.minProperties === 'number' ? schema.minProperties : 0;
    for (let i = Object.keys(out).length; i < min; i++) {
      out[`extra_${i}`] = this.instance(
        isRecord(schema.additionalProperties) ? schema.additionalProperties : true,
      );
    }
    return out;
  }

  #array(schema: Json, name: string): unknown[] {
    const out: unknown[] = [];
    const prefix = Array.isArray(schema.prefixItems) ? schema.prefixItems : [];
    for (const item of prefix) out.push(this.instance(item, name));
    const min = typeof schema.minItems === 'number' ? schema.minItems : 0;
    const max = typeof schema.maxItems === 'number' ? schema.maxItems : Number.POSITIVE_INFINITY;
    const wanted = Math.min(
      max,
      Math.max(min, prefix.length, prefix.length + (schema.items === false ? 0 : 2)),
    );
    const itemName = name.endsWith('s') ? name.slice(0, -1) : name;
    for (let i = out.length; i < wanted; i++) {
      const item = this.instance(schema.items ?? {}, `${itemName} ${i + 1}`);
      // uniqueItems: make scalars distinct; objects differ by their generated strings.
      if (schema.uniqueItems === true && out.some((seen) => JSON.stringify(seen) === JSON.stringify(item))) {
        if (typeof item === 'number') out.push(item + i);
        else if (typeof item === 'string') out.push(`${item} ${i}`);
        else out.push(item);
      } else out.push(item);
    }
    return out;
  }

  #number(schema: Json, integer: boolean): number {
    const min =
      typeof schema.exclusiveMinimum === 'number'
        ? schema.exclusiveMinimum + (integer ? 1 : 0.5)
        : typeof schema.minimum === 'number'
          ? schema.minimum
          : undefined;
    const max =
      typeof schema.exclusiveMaximum === 'number'
        ? schema.exclusiveMaximum - (integer ? 1 : 0.5)
        : typeof schema.maximum === 'number'
          ? schema.maximum
          : undefined;
    let value = 1 + this.#pick(40);
    if (min !== undefined && max !== undefined) value = min + ((max - min) * this.#pick(5)) / 4;
    else if (min !== undefined) value = min + this.#pick(10);
    else if (max !== undefined) value = max - this.#pick(10);
    if (integer) {
      value = Math.ceil(value);
      if (max !== undefined && value > max) value = Math.floor(max);
    }
    const multiple = typeof schema.multipleOf === 'number' && schema.multipleOf > 0 ? schema.multipleOf : 0;
    if (multiple) {
      value = Math.ceil(value / multiple) * multiple;
      if (max !== undefined && value > max) value = Math.floor(max / multiple) * multiple;
      value = Number(value.toFixed(10));
    }
    return value;
  }

  #string(schema: Json, name: string): string {
    const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
    const max = typeof schema.maxLength === 'number' ? schema.maxLength : Number.POSITIVE_INFINITY;
    let text: string | undefined;
    if (typeof schema.format === 'string') text = FORMATS[schema.format];
    if (text === undefined && typeof schema.pattern === 'string')
      text = fromPattern(schema.pattern, this.#pick(10));
    if (text === undefined) text = `${name.replace(/_/g, ' ')} ${WORDS[this.#pick(WORDS.length)]}`;
    // Lengths count code points, as JSON Schema does.
    const chars = [...text];
    while (chars.length < min) chars.push('x');
    return chars.slice(0, Math.max(min, Math.min(max, chars.length))).join('');
  }
}

/** The type to generate: the first non-null one listed, or the one the keywords imply. */
function pickType(schema: Json): string {
  const type = schema.type;
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) return (type.find((t) => t !== 'null') as string | undefined) ?? 'null';
  if (isRecord(schema.properties) || Array.isArray(schema.required)) return 'object';
  if (schema.items !== undefined || Array.isArray(schema.prefixItems)) return 'array';
  if (typeof schema.minimum === 'number' || typeof schema.maximum === 'number') return 'number';
  return 'string';
}

function mergeInto(target: Json, source: Json): Json {
  for (const [key, value] of Object.entries(source)) {
    if (key === 'properties' && isRecord(target.properties) && isRecord(value)) {
      target.properties = { ...target.properties, ...value };
    } else if (key === 'required' && Array.isArray(target.required) && Array.isArray(value)) {
      target.required = [...new Set([...target.required, ...value])];
    } else target[key] = value;
  }
  return target;
}

/**
 * A string matching a simple regular expression: literals, escapes (`\d`, `\w`, `\s`), classes (`[A-Z0-9]`),
 * `.`, groups with alternatives, and quantifiers (`?`, `*`, `+`, `{n}`, `{n,m}`). Undefined for anything else.
 */
export function fromPattern(pattern: string, variant = 0): string | undefined {
  let position = 0;
  const fail = (): never => {
    throw new Error('unsupported pattern');
  };
  const atom = (): string => {
    const char = pattern[position++];
    if (char === undefined) return fail();
    if (char === '\\') {
      const escaped = pattern[position++];
      if (escaped === 'd') return String(variant % 10);
      if (escaped === 'w') return 'abcdefghij'[variant % 10]!;
      if (escaped === 's') return ' ';
      if (escaped === undefined || /[a-zA-Z0-9]/.test(escaped)) return fail();
      return escaped;
    }
    if (char === '.') return 'a';
    if (char === '[') {
      const end = pattern.indexOf(']', position + 1);
      if (end === -1) return fail();
      const body = pattern.slice(position, end);
      position = end + 1;
      if (body.startsWith('^')) return fail();
      const range = /^(\\?.)(?:-(\\?.))?/.exec(body);
      if (!range) return fail();
      const start = range[1]!.replace(/^\\d$/, '0').replace(/^\\/, '');
      const stop = (range[2] ?? range[1]!).replace(/^\\d$/, '9').replace(/^\\/, '');
      const span = stop.charCodeAt(0) - start.charCodeAt(0) + 1;
      return String.fromCharCode(start.charCodeAt(0) + (span > 0 ? variant % span : 0));
    }
    if (char === '(') {
      if (pattern.startsWith('?:', position)) position += 2;
      const alternatives: string[] = [sequence()];
      while (pattern[position] === '|') {
        position++;
        alternatives.push(sequence());
      }
      if (pattern[position++] !== ')') return fail();
      return alternatives[0]!;
    }
    if ('*+?{}|)'.includes(char)) return fail();
    return char;
  };
  const sequence = (): string => {
    let out = '';
    while (position < pattern.length && pattern[position] !== '|' && pattern[position] !== ')') {
      if (pattern[position] === '^' || pattern[position] === '$') {
        position++;
        continue;
      }
      const piece = atom();
      const quantifier = pattern[position];
      let count = 1;
      if (quantifier === '?' || quantifier === '*') {
        position++;
        count = quantifier === '?' ? 1 : 1;
      } else if (quantifier === '+') {
        position++;
      } else if (quantifier === '{') {
        const close = pattern.indexOf('}', position);
        const match = /^\{(\d+)(?:,(\d*))?\}$/.exec(pattern.slice(position, close + 1));
        if (!match) return fail();
        count = Number(match[1]);
        position = close + 1;
      }
      out += piece.repeat(count);
    }
    return out;
  };
  try {
    const result = sequence();
    if (position !== pattern.length) return undefined;
    return new RegExp(pattern, 'u').test(result) ? result : undefined;
  } catch {
    return undefined;
  }
}

/** A deterministic instance of `schema`, varied by `seed`. */
export function instanceOf(schema: JsonSchema, seed = ''): unknown {
  return new InstanceGenerator(schema, seed).instance();
}
