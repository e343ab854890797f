/**
 * Default models, one table for every provider. Chosen to be current and to accept the common parameters:
 * `gpt-4.1-mini` rather than a reasoning model, because reasoning models reject `temperature`;
 * `claude-sonnet-4-6` because `claude-sonnet-4-5` reaches end of life on 2026-11-30.
 */
import type { ProviderName } from '../spec/types.ts';

export const DEFAULT_MODELS: Readonly<Record<ProviderName, { chat?: string; embedding?: string }>> = {
  openai: { chat: 'gpt-4.1-mini', embedding: 'text-embedding-3-small' },
  azure: { embedding: 'text-embedding-3-small' },
  'openai-compatible': {},
  anthropic: { chat: 'claude-sonnet-4-6' },
  gemini: { chat: 'gemini-2.5-flash', embedding: 'gemini-embedding-001' },
  bedrock: {
    chat: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    embedding: 'amazon.titan-embed-text-v2:0',
  },
  ollama: { chat: 'llama3.2', embedding: 'nomic-embed-text' },
};
