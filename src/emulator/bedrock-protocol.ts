/** The Bedrock wire protocol in the emulator. (Placeholder until the provider lands: serves nothing.) */
import type { Exchange } from './exchange.ts';

export async function handleBedrockProtocol(_exchange: Exchange): Promise<boolean> {
  return false;
}
