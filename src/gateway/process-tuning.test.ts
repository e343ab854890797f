import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tuneGatewayProcess } from './process-tuning.ts';

test("the gateway's V8 tuning leaves a pretenuring setting the operator chose alone", () => {
  assert.equal(tuneGatewayProcess(['--allocation-site-pretenuring']), false);
  assert.equal(tuneGatewayProcess(['--max-old-space-size=512', '--allocation_site_pretenuring']), false);
  assert.equal(tuneGatewayProcess(['--no-allocation-site-pretenuring']), false);
  assert.equal(tuneGatewayProcess(['-allocation-site-pretenuring']), false);
  assert.equal(tuneGatewayProcess(['--allocation-site-pretenuring-x', '--pretenuring']), true);
  assert.equal(tuneGatewayProcess([]), true);
});
