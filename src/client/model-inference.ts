/** Which provider a model name belongs to, and `provider/model` strings. */
import { PROVIDERS, type ProviderName } from '../spec/types.ts';

export function isProviderName(value: string): value is ProviderName {
  return (PROVIDERS as readonly string[]).includes(value);
}

/**
 * The provider a bare model name unambiguously belongs to, or undefined. `gpt-*`, `chatgpt-*`, `o1`/`o3`/
 * `o4-*` and OpenAI's embedding models are OpenAI's; `claude-*` Anthropic's; `gemini-*` and
 * `text-embedding-004` Gemini's. Names that several providers serve (`llama3`, `mistral`) are not guessed.
 */
export function inferProvider(model: string): ProviderName | undefined {
  const name = model.trim().toLowerCase();
  if (/^(?:gpt-|chatgpt-|o[134](?:$|-)|text-embedding-(?:3|ada)|davinci|babbage)/.test(name)) return 'openai';
  if (name.startsWith('claude-')) return 'anthropic';
  if (name.startsWith('gemini-') || name === 'text-embedding-004' || name.startsWith('gemini-embedding')) {
    return 'gemini';
  }
  return undefined;
}

/**
 * Splits `provider/model` when the part before the first slash is a provider we know; otherwise the whole
 * string is a model name (OpenRouter ids such as `meta-llama/llama-3-70b` keep their slash).
 */
export function parseModelSpec(spec: string): { provider?: ProviderName; model?: string } {
  const slash = spec.indexOf('/');
  if (slash > 0) {
    const head = spec.slice(0, slash).toLowerCase();
    if (isProviderName(head)) {
      const model = spec.slice(slash + 1);
      return model ? { provider: head, model } : { provider: head };
    }
  }
  if (isProviderName(spec.toLowerCase())) return { provider: spec.toLowerCase() as ProviderName };
  return { model: spec };
}
