/** Reading JSON of unknown shape: the one guard every provider parser and emulator protocol needs. */

export type Json = Record<string, unknown>;

/** A JSON object: not null, not an array. The only such guard in the code base, under this one name. */
export const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
