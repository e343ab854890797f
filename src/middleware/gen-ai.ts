/** Names from the OpenTelemetry GenAI semantic conventions, shared by the metrics and tracing layers. */
import type { Operation } from './types.ts';

/** `gen_ai.provider.name` values, as the conventions spell them. */
export function genAiProviderName(provider: string): string {
  switch (provider) {
    case 'azure':
      return 'azure.ai.openai';
    case 'gemini':
      return 'gcp.gemini';
    case 'bedrock':
      return 'aws.bedrock';
    default:
      return provider;
  }
}

/** `gen_ai.operation.name`: the conventions' names, and `count_tokens` (which they do not name) in their style. */
export function genAiOperation(operation: Operation): 'chat' | 'embeddings' | 'count_tokens' {
  if (operation === 'embed') return 'embeddings';
  return operation === 'count-tokens' ? 'count_tokens' : 'chat';
}

/** The spec's bucket boundaries for `gen_ai.client.token.usage`. */
export const TOKEN_USAGE_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];

/** The spec's bucket boundaries for `gen_ai.client.operation.duration` (seconds). */
export const OPERATION_DURATION_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];
