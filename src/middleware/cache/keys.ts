/**
 * Cache keys: a SHA-256 of the normalised request — provider, model, messages and every parameter that
 * changes the output — inside a namespace that defaults to a hash of the credential, so two tenants
 * never share an entry unless they choose the same namespace. No key ever contains a credential.
 */
import { createHash } from 'node:crypto';
import type { NormalizedRequest } from '../../providers/provider.ts';
import type { EmbeddingOptions } from '../../spec/types.ts';
import type { CallInfo } from '../types.ts';

/** Bumped when the shape of what is hashed or stored changes (v2: messages in parts, tools, formats). */
const VERSION = 'v2';
/** Embedding entries kept their shape through v2: their keys stay where they were. */
const EMBEDDING_VERSION = 'v1';

export function namespaceOf(call: CallInfo, namespace: string | undefined): string {
  return namespace ?? `tenant-${call.credentialHash}`;
}

export function completionKey(
  namespace: string,
  call: CallInfo,
  request: NormalizedRequest,
  kind: 'complete' | 'stream',
): string {
  const material = JSON.stringify([
    VERSION,
    call.provider,
    request.model,
    request.messages,
    request.temperature ?? null,
    request.maxTokens ?? null,
    request.topP ?? null,
    request.stop ?? null,
    request.seed ?? null,
    request.providerOptions ?? null,
    request.tools ?? null,
    request.toolChoice ?? null,
    request.parallelToolCalls ?? null,
    request.responseFormat ?? null,
    request.reasoning ?? null,
  ]);
  return `${namespace}:${kind}:${createHash('sha256').update(material).digest('hex')}`;
}

export function embeddingKey(
  namespace: string,
  provider: string,
  model: string,
  options: Pick<EmbeddingOptions, 'dimensions' | 'inputType'>,
  text: string,
): string {
  // The input type changes the vectors (a query is embedded unlike a document). Joined to the dimensions
  // with a `|` no number contains, so keys made before it existed stay valid and none can collide.
  const shape =
    options.inputType === undefined
      ? `${options.dimensions ?? ''}`
      : `${options.dimensions ?? ''}|${options.inputType}`;
  const digest = createHash('sha256')
    .update(`${EMBEDDING_VERSION}\0${provider}\0${model}\0${shape}\0`)
    .update(text)
    .digest('hex');
  return `${namespace}:embed:${digest}`;
}
