/**
 * The one thing every example shares: a client for `spec` that talks to the real service when its
 * credentials are in the environment, and to the built-in emulator (no network, no key) when they are not.
 */
import { createClient, type LLMClient, type ProviderName, parseModelSpec } from 'llm-factory';
import { startEmulator } from 'llm-factory/emulator';

export interface ExampleClient {
  llm: LLMClient;
  /** True when the emulator answers. */
  offline: boolean;
  close(): Promise<void>;
}

export async function openClient(
  spec = process.env.LLMF_MODEL ?? 'openai/gpt-4o-mini',
): Promise<ExampleClient> {
  const provider = (parseModelSpec(spec).provider ?? 'openai') as ProviderName;
  // Ollama needs no key: it counts as configured when OLLAMA_HOST says where it runs.
  if (provider !== 'ollama' || process.env.OLLAMA_HOST) {
    try {
      const llm = createClient(spec);
      return { llm, offline: false, close: () => llm.close() };
    } catch (error) {
      // No credentials for this provider: answer from the emulator, in the provider's own protocol.
      if ((error as { code?: string }).code !== 'configuration') throw error;
    }
  }
  const emulator = await startEmulator();
  const llm = createClient(spec, emulator.clientOptions(provider));
  console.error(`(no ${provider} credentials in the environment: the built-in emulator answers)`);
  return {
    llm,
    offline: true,
    close: async () => {
      await llm.close();
      await emulator.close();
    },
  };
}
