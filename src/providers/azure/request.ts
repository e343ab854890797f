/**
 * Azure OpenAI URLs and auth. The model name is the deployment:
 * `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=…`, authenticated with the
 * `api-key` header or an Entra ID bearer token.
 */
import { trimSlash } from '../config-helpers.ts';

export interface AzureUrlSettings {
  /** The resource URL, e.g. `https://my-resource.openai.azure.com`. */
  endpoint: string;
  apiVersion: string;
}

export function azureDeploymentUrl(
  settings: AzureUrlSettings,
  deployment: string,
  operation: string,
): string {
  const base = trimSlash(settings.endpoint).replace(/\/openai$/, '');
  return `${base}/openai/deployments/${encodeURIComponent(deployment)}/${operation}?api-version=${encodeURIComponent(settings.apiVersion)}`;
}

/**
 * Reasoning deployments (o-series, gpt-5) reject `max_tokens`; older API versions only know it. We pick by
 * the deployment name, which by convention carries the model name.
 */
export function azureMaxTokensField(deployment: string): 'max_completion_tokens' | 'max_tokens' {
  return /(?:^|[-_/])(?:o\d|gpt-5)/i.test(deployment) ? 'max_completion_tokens' : 'max_tokens';
}
