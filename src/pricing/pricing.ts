/**
 * Cost accounting: per-million-token prices and context windows from the bundled table (generated from
 * a maintained public database, see prices.generated.ts), overridable at run time. A model the table
 * does not know has no price: `costOf` returns undefined, never a guess.
 */
import type { ProviderName, Usage } from '../spec/types.ts';
import { PRICE_DATA } from './prices.generated.ts';

type Tiered = number | { base: number; tiers: Array<{ start: number; price: number }> };
type Match = {
  equals?: string;
  starts_with?: string;
  ends_with?: string;
  contains?: string;
  regex?: string;
  or?: Match[];
  and?: Match[];
};

interface TableEntry {
  id: string;
  match: Match;
  input: Tiered;
  /** Absent for models that produce no tokens (embeddings): a call reporting output tokens is then unpriced. */
  output?: Tiered;
  cacheRead?: Tiered;
  cacheWrite?: Tiered;
  contextWindow?: number;
}

/** A model's prices in USD per million tokens. A number, or a base with tiers by prompt size. */
export interface ModelPrice {
  input: Tiered;
  /** Absent for models that produce no tokens (embeddings): a call reporting output tokens is then unpriced. */
  output?: Tiered;
  /** Cached input (prompt-cache reads). Default: the input price. */
  cacheRead?: Tiered;
  /** Prompt-cache writes. Default: the input price. */
  cacheWrite?: Tiered;
  contextWindow?: number;
}

let table: Record<string, TableEntry[]> | undefined;
/** Prices set at run time, by provider ('*': any) and then model. */
const overrides = new Map<string, Map<string, ModelPrice>>();
/**
 * What the table answered for each provider and model (null: not listed). Maps of maps: a lookup builds no
 * key string (a call is priced two or three times on its way through the gateway).
 */
const resolved = new Map<ProviderName, Map<string, ModelPrice | null>>();

/** Local models cost nothing per token. */
const FREE: ModelPrice = { input: 0, output: 0 };

/**
 * What may follow a `starts_with` prefix: dated snapshots and version tags (`-20250929`, `-2024-08-06`,
 * `-v1:0`, `-latest`, `-preview-05-20`), but not another model number: `claude-sonnet-5-5` is not
 * `claude-sonnet-5`, and pricing it as such would be a wrong number.
 */
const SNAPSHOT_SUFFIX =
  /^(?:[-@:.](?:\d{6,8}|\d{4}-\d\d-\d\d|\d\d-\d{4}|\d\d-\d\d|v\d[\w.]*|\d+|latest|preview|exp|thinking))*$/;

function matches(rule: Match, name: string): boolean {
  if (rule.equals !== undefined) return name === rule.equals;
  if (rule.starts_with !== undefined) {
    return (
      name.startsWith(rule.starts_with) && isSnapshotOf(name.slice(rule.starts_with.length), rule.starts_with)
    );
  }
  if (rule.ends_with !== undefined) return name.endsWith(rule.ends_with);
  if (rule.contains !== undefined) return name.includes(rule.contains);
  if (rule.regex !== undefined) return new RegExp(rule.regex).test(name);
  if (rule.or) return rule.or.some((inner) => matches(inner, name));
  if (rule.and) return rule.and.every((inner) => matches(inner, name));
  return false;
}

function isSnapshotOf(rest: string, prefix: string): boolean {
  if (rest === '' || /[-.]$/.test(prefix)) return true;
  // A bare number right after a model number is a different model (…-5 then -5), not a snapshot.
  if (/\d$/.test(prefix) && /^-\d{1,2}(?:$|[-@:.])/.test(rest)) return false;
  return SNAPSHOT_SUFFIX.test(rest);
}

/** Names worth trying for a model: as given, without `models/`, a Bedrock region prefix, or `provider/`. */
function candidates(model: string): string[] {
  const names = [model];
  const bare = model.replace(/^models\//, '').replace(/^(?:us|eu|apac|global|jp|au)\./, '');
  if (bare !== model) names.push(bare);
  const slash = bare.lastIndexOf('/');
  if (slash !== -1) names.push(bare.slice(slash + 1));
  return names;
}

/** The price of `model` at `provider`, or undefined when unknown. */
export function findModelPrice(provider: ProviderName, model: string): ModelPrice | undefined {
  if (overrides.size > 0) {
    const override = overrides.get(provider)?.get(model) ?? overrides.get('*')?.get(model);
    if (override) return override;
  }
  return listedPrice(provider, model);
}

/**
 * True when the bundled table lists `model` at `provider` (prices set at run time with `setModelPrice`
 * do not count): the provider's own catalogue, as the maintained price database knows it.
 */
export function isListedModel(provider: ProviderName, model: string): boolean {
  return listedPrice(provider, model) !== undefined;
}

function listedPrice(provider: ProviderName, model: string): ModelPrice | undefined {
  let known = resolved.get(provider);
  if (!known) {
    known = new Map();
    resolved.set(provider, known);
  }
  const cached = known.get(model);
  if (cached !== undefined) return cached ?? undefined;
  let found: ModelPrice | undefined;
  if (provider === 'ollama') found = FREE;
  else {
    table ??= JSON.parse(PRICE_DATA) as Record<string, TableEntry[]>;
    // Azure bills OpenAI's models at OpenAI's list prices when its own list lacks them.
    const entries = [...(table[provider] ?? []), ...(provider === 'azure' ? (table.openai ?? []) : [])];
    outer: for (const name of candidates(model)) {
      for (const entry of entries) {
        if (matches(entry.match, name)) {
          found = entry;
          break outer;
        }
      }
    }
  }
  known.set(model, found ?? null);
  return found;
}

/**
 * Sets (or replaces) a model's price at run time; `provider` '*' applies to every provider. Takes effect
 * for calls made afterwards.
 */
export function setModelPrice(provider: ProviderName | '*', model: string, price: ModelPrice): void {
  let byModel = overrides.get(provider);
  if (!byModel) {
    byModel = new Map();
    overrides.set(provider, byModel);
  }
  byModel.set(model, price);
}

/** The model's context window in tokens, when the table knows it. */
export function contextWindowOf(provider: ProviderName, model: string): number | undefined {
  return findModelPrice(provider, model)?.contextWindow;
}

function rate(price: Tiered, promptTokens: number): number {
  if (typeof price === 'number') return price;
  let value = price.base;
  for (const tier of price.tiers) if (promptTokens >= tier.start) value = tier.price;
  return value;
}

/** What `usage` cost in USD at `model`'s prices, or undefined when the price is unknown. */
export function costOf(provider: ProviderName, model: string, usage: Usage): number | undefined {
  const price = findModelPrice(provider, model);
  if (!price) return undefined;
  if (price.output === undefined && usage.outputTokens > 0) return undefined;
  const prompt = usage.inputTokens;
  const cached = usage.cachedInputTokens ?? 0;
  const written = usage.cacheWriteInputTokens ?? 0;
  const fresh = Math.max(0, prompt - cached - written);
  const input = rate(price.input, prompt);
  const micros =
    fresh * input +
    cached * (price.cacheRead === undefined ? input : rate(price.cacheRead, prompt)) +
    written * (price.cacheWrite === undefined ? input : rate(price.cacheWrite, prompt)) +
    (price.output === undefined ? 0 : usage.outputTokens * rate(price.output, prompt));
  return micros / 1_000_000;
}
