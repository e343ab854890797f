/**
 * What every adapter's request builder shares: merging the caller's provider options into the body
 * without ever overwriting a field the request defines, and the error for what a provider or model cannot
 * do — raised before anything is sent.
 */
import { LLMBadRequestError, LLMUnsupportedError } from '../spec/errors.ts';
import { isRecord } from '../spec/json.ts';
import type { ProviderName, ProviderOptions } from '../spec/types.ts';

/** `{provider} model {model} does not support {feature}`, before sending. */
export function unsupported(provider: ProviderName, model: string, feature: string): LLMUnsupportedError {
  return new LLMUnsupportedError(`${provider} model ${model} does not support ${feature}`, {
    provider,
    model,
  });
}

/**
 * Merges `options[provider]` into `body`. A key in `reserved` (the body fields the request's own fields
 * map to: `messages`, `tools`, …) is always an error pointing at the request field to use; a key the body
 * already has is an error unless both values are objects, which merge one level down by the same rule.
 */
export function mergeProviderOptions(
  body: Record<string, unknown>,
  options: ProviderOptions | undefined,
  provider: ProviderName,
  reserved: Readonly<Record<string, string>>,
): void {
  const own = options?.[provider];
  if (!own) return;
  merge(body, own, reserved, `providerOptions.${provider}`);
}

function merge(
  target: Record<string, unknown>,
  source: Record<string, unknown>,
  reserved: Readonly<Record<string, string>>,
  path: string,
): void {
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    const field = `${path}.${key}`;
    const instead = Object.hasOwn(reserved, key) ? reserved[key] : undefined;
    if (instead !== undefined) {
      throw new LLMBadRequestError(
        `Invalid request: \`${field}\` would overwrite what the request's \`${instead}\` defines; set \`${instead}\` instead`,
      );
    }
    if (!(key in target)) {
      target[key] = value;
      continue;
    }
    const existing = target[key];
    if (isRecord(existing) && isRecord(value)) {
      const merged = { ...existing };
      merge(merged, value, {}, field);
      target[key] = merged;
      continue;
    }
    throw new LLMBadRequestError(
      `Invalid request: \`${field}\` conflicts with a field the request already sets (${key}); set it in one place`,
    );
  }
}
