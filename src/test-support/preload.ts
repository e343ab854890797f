/**
 * Loads what a first request would otherwise load inside a timing-sensitive test. The emulator counts
 * usage with the real o200k tokenizer (every model the fault tests name maps to it), and its first load
 * takes long enough to trip the short timeouts those tests set on purpose.
 */
import { countOpenAITokens } from '../tokens/openai-tokenizer.ts';

export function preloadTokenizer(): void {
  countOpenAITokens('preload', 'gpt-4o');
}
