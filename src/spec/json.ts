/** Reading JSON of unknown shape: the two guards every provider parser needs. */

export type Json = Record<string, unknown>;

/** A non-null object (arrays included, as `typeof` sees them). */
export const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null;

/** A non-null object that is not an array. */
export const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
