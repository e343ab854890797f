/** The three tokenizers compared, loaded the way each one's documentation shows, for o200k_base. */

export const TOKENIZERS = ['ours', 'js-tiktoken', 'tiktoken'] as const;
export type TokenizerName = (typeof TOKENIZERS)[number];

export const TOKENIZER_LABELS: Record<TokenizerName, string> = {
  ours: 'llm-factory countOpenAITokens (gpt-tokenizer)',
  'js-tiktoken': 'js-tiktoken (pure JS)',
  tiktoken: 'tiktoken (WASM)',
};

export interface Counter {
  count(text: string): number;
  /** Forgets cached merges, where the tokenizer keeps any. */
  reset(): void;
}

export async function loadCounter(name: TokenizerName): Promise<Counter> {
  switch (name) {
    case 'ours': {
      const { countOpenAITokens } = await import('../src/tokens/openai-tokenizer.ts');
      const { createRequire } = await import('node:module');
      const encoding = createRequire(import.meta.url)('gpt-tokenizer/cjs/encoding/o200k_base') as {
        clearMergeCache(): void;
      };
      return {
        count: (text) => countOpenAITokens(text, 'gpt-4o-mini'),
        reset: () => encoding.clearMergeCache(),
      };
    }
    case 'js-tiktoken': {
      const { Tiktoken } = await import('js-tiktoken/lite');
      const { default: o200k } = await import('js-tiktoken/ranks/o200k_base');
      const encoder = new Tiktoken(o200k);
      return { count: (text) => encoder.encode(text, [], []).length, reset: () => {} };
    }
    case 'tiktoken': {
      const { get_encoding } = await import('tiktoken');
      const encoder = get_encoding('o200k_base');
      return { count: (text) => encoder.encode_ordinary(text).length, reset: () => {} };
    }
  }
}
