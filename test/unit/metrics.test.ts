// Pending counts: hot-path increments reach prom-client at the next scrape, once each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics } from '../../src/metrics.ts';

test('pending counts are added at each scrape exactly once, whichever metric the registry reads first', async () => {
  const m = createMetrics();
  const enabled = m.pending(m.flagEvaluations.labels({ outcome: 'enabled' }));
  const requests = m.pending(m.httpRequests.labels({ route: '/flags', method: 'POST', status_class: '2xx' }));
  enabled.inc(30);
  enabled.inc(20);
  requests.inc();
  let text = await m.registry.metrics();
  assert.match(text, /vexil_flag_evaluations_total\{outcome="enabled"\} 50\n/);
  assert.match(text, /vexil_http_requests_total\{route="\/flags",method="POST",status_class="2xx"\} 1\n/);
  text = await m.registry.metrics();
  assert.match(text, /vexil_flag_evaluations_total\{outcome="enabled"\} 50\n/, 'a second scrape adds nothing');
  requests.inc(2);
  // Reading one metric directly hands over the counts of the others too, without losing any.
  assert.equal((await m.httpRequests.get()).values[0]?.value, 3);
  enabled.inc();
  assert.equal((await m.flagEvaluations.get()).values[0]?.value, 51);
});
