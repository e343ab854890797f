/** Deterministic embeddings: unit-length vectors of the model's real dimension, seeded by the text. */
import { createHash } from 'node:crypto';

const DIMENSIONS: Readonly<Record<string, number>> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
};

export function embeddingDimension(model: string): number {
  return DIMENSIONS[model] ?? 1536;
}

/**
 * A unit vector derived from `text` (xorshift seeded by its SHA-256). A `purpose` (a query's input or task
 * type) seeds another vector, as real models embed a query unlike the same text as a document.
 */
export function embedText(text: string, dimensions: number, purpose?: string): Float32Array {
  const hash = createHash('sha256');
  if (purpose !== undefined) hash.update(`${purpose}\0`);
  const seed = hash.update(text).digest();
  let state = seed.readUInt32LE(0) || 1;
  const vector = new Float32Array(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const value = ((state >>> 0) / 0xffffffff) * 2 - 1;
    vector[i] = value;
    norm += value * value;
  }
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < dimensions; i++) vector[i]! *= scale;
  return vector;
}

export function toBase64(vector: Float32Array): string {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
}
