/**
 * The router: the client's methods over a set of deployments, with fallbacks, load balancing, cooldowns
 * and hedging. `createRouter(config)` returns one; code written for a client takes it unchanged.
 *
 * A request passes through to the chosen deployment's client untouched but for `model`, which names a
 * group or a deployment here and is replaced by the deployment's own model — so every field a client
 * understands (tools, response formats, provider options keyed by provider) survives a fallback.
 */
import { LLMClientFactory } from '../client/factory.ts';
import type { ClientOptions } from '../client/options.ts';
import { completionText, normalizeRequest } from '../client/request.ts';
import type { ObjectRequest, ObjectResult, ObjectStreamEvent } from '../client/structured-output.ts';
import { type RunToolsRequest, type RunToolsResult, runTools } from '../client/tool-loop.ts';
import type { ForwardedResponse, RequestTokenCount, WireProtocol } from '../providers/provider.ts';
import { LLMBadRequestError, LLMError, LLMNotFoundError, LLMUnsupportedError } from '../spec/errors.ts';
import type {
  CompletionRequest,
  CompletionResult,
  EmbeddingOptions,
  EmbeddingsResult,
  GenerateOptions,
  ProviderName,
  RouteInfo,
  StreamEvent,
} from '../spec/types.ts';
import type { AttemptContext } from './attempt.ts';
import { validateRouterConfig } from './config.ts';
import { Deployment } from './deployment.ts';
import { DEFAULT_FALLBACKS } from './failures.ts';
import { type OpenedStream, openStream } from './first-event.ts';
import { systemClock } from './health.ts';
import { RouterInstruments } from './instruments.ts';
import { CallPlan, type RouterOperation, type Target } from './plan.ts';
import { RequestSize } from './request-size.ts';
import { Runner } from './runner.ts';
import { RedisState, redisStateSettings, type SharedState } from './shared-state.ts';
import type { ClientMethods, DeploymentHealth, RouterConfig } from './types.ts';

const DEFAULT_COOLDOWN = { allowedFails: 3, windowMs: 60_000, cooldownMs: 5_000 };
const DEFAULT_MAX_WAIT_MS = 60_000;
/** The longest a new process waits for its first exchange with Redis before its first call. */
const FIRST_SYNC_WAIT_MS = 1_000;

export class Router implements ClientMethods {
  /** The group (or deployment) a request without `model` goes to. */
  readonly model: string;
  readonly #deployments: readonly Deployment[];
  readonly #targets = new Map<string, Target>();
  readonly #default: Target;
  readonly #defaultEmbedding: Target;
  readonly #runner: Runner;
  readonly #shared: SharedState | undefined;
  readonly #ttftTimeoutMs: number | undefined;
  readonly #hedging: boolean;
  #waitForShared: Promise<void> | undefined;
  #closed = false;

  constructor(config: RouterConfig) {
    const valid = validateRouterConfig(config);
    const clock = systemClock;
    const strategy = valid.strategy ?? 'priority';
    const defaults: ClientOptions = {};
    if (valid.logger) defaults.logger = valid.logger;
    if (valid.metrics) defaults.metrics = true;
    if (valid.tracing) defaults.tracing = valid.tracing;
    Object.assign(defaults, valid.defaults);
    const setup = {
      factory: valid.factory ?? LLMClientFactory.default,
      defaults,
      observeHeaders: strategy === 'usage',
      clock,
    };
    const deployments: Deployment[] = [];
    try {
      for (const [index, deployment] of valid.deployments.entries())
        deployments.push(new Deployment(deployment, index, setup));
    } catch (error) {
      for (const made of deployments) void made.close();
      throw error;
    }
    this.#deployments = deployments;
    const byId = new Map(deployments.map((deployment) => [deployment.id, deployment]));
    for (const deployment of deployments)
      this.#targets.set(deployment.id, { name: deployment.id, deployments: [deployment] });
    for (const [alias, ids] of Object.entries(valid.groups ?? {}))
      this.#targets.set(alias, { name: alias, deployments: ids.map((id) => byId.get(id)!) });
    const firstGroup = Object.keys(valid.groups ?? {})[0];
    const defaultName = valid.defaultModel ?? firstGroup;
    this.#default = defaultName ? this.#targets.get(defaultName)! : { name: 'all deployments', deployments };
    this.#defaultEmbedding = valid.defaultEmbeddingModel
      ? this.#targets.get(valid.defaultEmbeddingModel)!
      : this.#default;
    this.model = this.#default.name;
    this.#ttftTimeoutMs = valid.ttftTimeoutMs;
    this.#hedging = valid.hedge !== undefined;

    const redis = redisStateSettings(valid.state);
    this.#shared = redis
      ? new RedisState(
          deployments.map((deployment) => deployment.stats),
          { ...redis, clock },
        )
      : undefined;
    if (this.#shared) {
      let timer: NodeJS.Timeout | undefined;
      const wait = new Promise<void>((resolve) => (timer = setTimeout(resolve, FIRST_SYNC_WAIT_MS)));
      this.#waitForShared = Promise.race([this.#shared.ready(), wait]).then(() => {
        clearTimeout(timer);
        this.#waitForShared = undefined;
      });
    }
    this.#runner = new Runner({
      strategy,
      fallbacks: new Set(valid.fallbacks ?? DEFAULT_FALLBACKS),
      cooldown: valid.cooldown === false ? undefined : { ...DEFAULT_COOLDOWN, ...valid.cooldown },
      hedge: valid.hedge,
      maxWaitMs: valid.maxWaitMs ?? DEFAULT_MAX_WAIT_MS,
      clock,
      random: Math.random,
      instruments: new RouterInstruments({
        metrics: valid.metrics === true,
        tracing: valid.tracing !== undefined && valid.tracing !== false,
        logger: valid.logger,
      }),
      shared: this.#shared,
    });
  }

  /** One completion from the first deployment that answers. `result.route` says which, and what was tried. */
  complete(request: CompletionRequest): Promise<CompletionResult> {
    return this.#run(
      'complete',
      request,
      (context, routed) => context.client.complete(routed),
      (result, route) => {
        result.route = route;
      },
      (result) => result.usage.totalTokens,
    );
  }

  /** The text of one completion for a single prompt. */
  generateCompletion(prompt: string, options: GenerateOptions = {}): Promise<string> {
    return completionText((request) => this.complete(request), prompt, options);
  }

  /**
   * Streams a completion. Failures before the first event (and no first event within `ttftTimeoutMs`)
   * move to the next deployment; once an event has been yielded, a failure is thrown as a typed error and
   * never replaced by another deployment's answer. The `finish` event carries the route. An invalid
   * request or an unknown model throws at once.
   */
  stream(request: CompletionRequest): AsyncGenerator<StreamEvent, void, undefined> {
    this.#checkOpen();
    const target = this.#targetOf(request);
    normalizeRequest(request, target.deployments[0]!.model);
    return this.#stream(request, target);
  }

  #stream(request: CompletionRequest, target: Target): AsyncGenerator<StreamEvent, void, undefined> {
    return this.#streamOf(
      request,
      target,
      (context, routed) => context.client.stream(routed),
      (event, route) => {
        if (event.type !== 'finish') return undefined;
        event.route = route;
        return event.usage.totalTokens;
      },
    );
  }

  /**
   * The one path of every stream-shaped operation: until the first event a failure moves to another
   * deployment; after it, it is thrown as a typed error. `onEvent` attaches the route to the closing event
   * and says how many tokens it reports (undefined for any other event).
   */
  async *#streamOf<E>(
    request: CompletionRequest,
    target: Target,
    open: (context: AttemptContext, routed: CompletionRequest) => AsyncGenerator<E, void, undefined>,
    onEvent: (event: E, route: RouteInfo) => number | undefined,
  ): AsyncGenerator<E, void, undefined> {
    if (this.#waitForShared) await this.#waitForShared;
    const plan = new CallPlan('stream', target, new RequestSize(request));
    const ttftMs = this.#ttftTimeoutMs;
    const { value: opened, attempt } = await this.#runner.run<OpenedStream<E>>(
      plan,
      {
        signal: request.signal,
        hedge: this.#hedging,
        cancellable: this.#hedging || ttftMs !== undefined,
        track: 'ttft',
        keepsRunning: true,
        discard: (lost) => void lost.iterator.return(undefined).catch(() => {}),
      },
      (context) => openStream(open(context, this.#routed(request, context)), ttftMs, context),
    );
    const route = this.#runner.route(plan, attempt.deployment);
    let failure: unknown;
    let finished = false;
    try {
      for (let step = opened.first; !step.done; step = await opened.iterator.next()) {
        const event = step.value;
        const tokens = onEvent(event, route);
        if (tokens !== undefined) {
          finished = true;
          attempt.deployment.stats.usage.add(0, tokens, systemClock.now());
        }
        yield event;
      }
    } catch (error) {
      failure = error;
      throw await this.#runner.failedAfterOutput(plan, attempt.deployment, error);
    } finally {
      // The caller broke out of the loop: release the deployment's connection.
      if (failure === undefined && !finished) await opened.iterator.return(undefined).catch(() => {});
      attempt.end(failure);
    }
  }

  /**
   * Embeddings from one vector space: the group's first deployment's model and dimensions. The call
   * balances and falls back only among deployments of that space; with none left it fails with a typed
   * error rather than answering from another model.
   */
  async generateEmbeddings(texts: readonly string[], options: EmbeddingOptions = {}): Promise<number[][]> {
    return (await this.embed(texts, options)).embeddings;
  }

  /** `generateEmbeddings` with the tokens billed, their cost and the route (see the client's `embed`). */
  async embed(texts: readonly string[], options: EmbeddingOptions = {}): Promise<EmbeddingsResult> {
    if (this.#waitForShared) await this.#waitForShared;
    this.#checkOpen();
    const target = options.model === undefined ? this.#defaultEmbedding : this.#targetNamed(options.model);
    if (Array.isArray(texts) && texts.length === 0) {
      const model = target.deployments[0]?.embeddingModel ?? '';
      return {
        embeddings: [],
        usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0 },
        model,
      };
    }
    const plan = new CallPlan('embed', target, undefined, options.dimensions);
    let characters = 0;
    for (const text of texts) characters += typeof text === 'string' ? text.length : 0;
    plan.inputTokens = Math.ceil(characters / 4);
    const { value, attempt } = await this.#runner.run<EmbeddingsResult>(
      plan,
      {
        signal: options.signal,
        hedge: false,
        cancellable: false,
        track: 'latency',
        keepsRunning: false,
        tokensOf: (result: EmbeddingsResult) => result.usage?.inputTokens ?? plan.inputTokens ?? 0,
      },
      ({ client, deployment, signal }) =>
        client.embed(texts, {
          ...options,
          model: deployment.embeddingModel,
          dimensions: options.dimensions ?? deployment.config.dimensions,
          signal,
        }),
    );
    value.route = this.#runner.route(plan, attempt.deployment);
    return value;
  }

  /**
   * `generateObject` on the deployment that answers: native structured output or a forced tool as that
   * deployment's model allows; `result.route` says which. A failure falls back as a completion's does.
   */
  generateObject<T = unknown>(request: ObjectRequest<T>): Promise<ObjectResult<T>> {
    return this.#run(
      'complete',
      request as CompletionRequest,
      (context, routed) =>
        context.client.generateObject({ ...(routed as ObjectRequest<T>), schema: request.schema }),
      (value, route) => {
        value.result.route = route;
      },
      (value) => value.result.usage.totalTokens,
    );
  }

  /** `streamObject` through the router: it falls back until the first partial object, as a stream does. */
  streamObject<T = unknown>(
    request: ObjectRequest<T>,
  ): AsyncGenerator<ObjectStreamEvent<T>, void, undefined> {
    this.#checkOpen();
    const target = this.#targetOf(request as CompletionRequest);
    return this.#streamOf<ObjectStreamEvent<T>>(
      request as CompletionRequest,
      target,
      (context, routed) =>
        context.client.streamObject({ ...(routed as ObjectRequest<T>), schema: request.schema }),
      (event, route) => {
        if (event.type !== 'object') return undefined;
        event.result.route = route;
        return event.result.usage.totalTokens;
      },
    );
  }

  /** The tool loop, each model call routed (and falling back) on its own. */
  runTools(request: RunToolsRequest): Promise<RunToolsResult> {
    return runTools(this, request);
  }

  /** Every name a request's `model` may use: group aliases, then deployment ids. */
  models(): string[] {
    return [...this.#targets.keys()];
  }

  /** The provider and model of the first deployment `model` leads to (what a price estimate should use). */
  pricedAs(model?: string): { provider: ProviderName; model: string } | undefined {
    const target = model === undefined ? this.#default : this.#targets.get(model);
    const first = target?.deployments[0];
    return first ? { provider: first.provider, model: first.model } : undefined;
  }

  /** True when every deployment `model` leads to speaks `protocol` natively (`forward` takes such a body). */
  speaks(model: string | undefined, protocol: WireProtocol): boolean {
    const target = model === undefined ? this.#default : this.#targets.get(model);
    return target?.deployments.every((deployment) => deployment.client(true).speaks(protocol)) ?? false;
  }

  /**
   * A native body through the chosen deployment, untranslated (the gateway's pass-through): the deployment
   * is chosen, falls back and cools down as for a completion until its response starts; the response comes
   * back unread with the route. Every deployment of `model` must speak the protocol (see `speaks`).
   */
  async forward(native: {
    model?: string;
    protocol: WireProtocol;
    body: Record<string, unknown>;
    stream: boolean;
    headers?: Record<string, string>;
    signal?: AbortSignal;
  }): Promise<{
    response: ForwardedResponse;
    route: RouteInfo;
    deployment: { id: string; provider: ProviderName; model: string };
  }> {
    if (this.#waitForShared) await this.#waitForShared;
    this.#checkOpen();
    const { model, signal, ...call } = native;
    const target = model === undefined ? this.#default : this.#targetNamed(model);
    if (!this.speaks(model, call.protocol)) {
      throw new LLMUnsupportedError(`Not every deployment of '${target.name}' speaks ${call.protocol}`, {
        model,
      });
    }
    // Sized from the native body's messages: their text parts are read the same way as ours.
    const sizing = { messages: call.body.messages, system: call.body.system } as unknown as CompletionRequest;
    const plan = new CallPlan(call.stream ? 'stream' : 'complete', target, new RequestSize(sizing));
    const { value, attempt } = await this.#runner.run(
      plan,
      {
        signal,
        hedge: false,
        cancellable: false,
        track: call.stream ? 'ttft' : 'latency',
        keepsRunning: false,
      },
      (context) =>
        context.client.forward({ ...call, model: context.deployment.model, signal: context.signal }),
    );
    const { id, provider, model: deploymentModel } = attempt.deployment;
    return {
      response: value,
      route: this.#runner.route(plan, attempt.deployment),
      deployment: { id, provider, model: deploymentModel },
    };
  }

  /** Tokens in `text` for the default group's first deployment. */
  countTokens(text: string): number {
    return this.#default.deployments[0]!.client(true).countTokens(text);
  }

  /** Input tokens of a request on the deployment the request would go to. */
  countRequestTokens(request: CompletionRequest): Promise<RequestTokenCount> {
    return this.#run('count', request, (context, routed) => context.client.countRequestTokens(routed));
  }

  /** True when `countTokens` is exact for the default group's first deployment. */
  get tokenCountExact(): boolean {
    return this.#default.deployments[0]!.exactTokens;
  }

  /** Every deployment's health as this process sees it (with shared state: every process's). */
  health(): DeploymentHealth[] {
    const now = systemClock.now();
    return this.#deployments.map(({ id, provider, model, stats }) => {
      const perMinute = stats.usage.perMinute(now);
      return {
        id,
        provider,
        model,
        coolingForMs: Math.max(0, stats.coolingUntil - now),
        coolingCode: stats.isCooling(now) ? stats.coolingCode : undefined,
        failures: stats.failuresIn(now),
        inFlight: stats.inFlight + stats.othersInFlight,
        latencyMs: stats.latency.recentMs(now),
        ttftMs: stats.ttft.recentMs(now),
        requestsPerMinute: perMinute.requests,
        tokensPerMinute: perMinute.tokens,
      };
    });
  }

  /** Closes every deployment's client and the shared state's connection. Further calls fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#shared?.close();
    await Promise.all(this.#deployments.map((deployment) => deployment.close()));
  }

  /**
   * The one path of every call-shaped operation: the request goes to the chosen deployment's client with
   * its `model` replaced; `attach` puts the route on the value. (`generateObject` and `runTools` steps are
   * the same call with another client method.)
   */
  async #run<T>(
    operation: RouterOperation,
    request: CompletionRequest,
    call: (context: AttemptContext, routed: CompletionRequest) => Promise<T>,
    attach?: (value: T, route: RouteInfo) => void,
    tokensOf?: (value: T) => number,
  ): Promise<T> {
    if (this.#waitForShared) await this.#waitForShared;
    this.#checkOpen();
    const target = this.#targetOf(request);
    const plan = new CallPlan(operation, target, new RequestSize(request));
    const hedge = operation === 'complete' && this.#hedging;
    const { value, attempt } = await this.#runner.run(
      plan,
      {
        signal: request.signal,
        hedge,
        cancellable: hedge,
        track: operation === 'complete' ? 'latency' : undefined,
        keepsRunning: false,
        tokensOf,
      },
      (context) => call(context, this.#routed(request, context)),
    );
    attach?.(value, this.#runner.route(plan, attempt.deployment));
    return value;
  }

  #routed(request: CompletionRequest, context: AttemptContext): CompletionRequest {
    const model = context.deployment.model;
    return context.signal === request.signal
      ? { ...request, model }
      : { ...request, model, signal: context.signal };
  }

  #targetOf(request: CompletionRequest): Target {
    if (typeof request !== 'object' || request === null)
      throw new LLMBadRequestError('Invalid request: expected an object with `messages` or `prompt`');
    return request.model === undefined ? this.#default : this.#targetNamed(request.model);
  }

  #targetNamed(model: string): Target {
    const target = this.#targets.get(model);
    if (target) return target;
    throw new LLMNotFoundError(
      `This router has no group or deployment named ${JSON.stringify(model)}; known: ${[...this.#targets.keys()].join(', ')}`,
      { model },
    );
  }

  #checkOpen(): void {
    if (this.#closed) throw new LLMError('This router is closed');
  }
}

/** A router over `config.deployments`: `createRouter(loadRouterConfig('router.yaml'))`. */
export function createRouter(config: RouterConfig): Router {
  return new Router(config);
}
