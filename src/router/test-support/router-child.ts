/**
 * A second process for the shared-state tests: `node router-child.ts '<job as JSON>'` makes a router from
 * the job's config, makes its calls one after another, closes the router (which pushes its counters to
 * Redis) and prints one JSON line with every call's route and the health it saw.
 */
import { LLMClientFactory } from '../../client/factory.ts';
import type { RouteInfo } from '../../spec/types.ts';
import { createRouter } from '../router.ts';
import type { RouterConfig } from '../types.ts';

interface Job {
  config: RouterConfig;
  calls: Array<{ model?: string; prompt: string }>;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as Job;
  const router = createRouter({ ...job.config, factory: new LLMClientFactory({ env: {} }) });
  const routes: Array<RouteInfo | { error: string }> = [];
  for (const call of job.calls) {
    try {
      const result = await router.complete(
        call.model ? { model: call.model, prompt: call.prompt } : { prompt: call.prompt },
      );
      routes.push(result.route!);
    } catch (error) {
      routes.push({ error: (error as Error).message });
    }
  }
  const health = router.health();
  await router.close();
  console.log(JSON.stringify({ routes, health }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
