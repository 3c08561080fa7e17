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

test('the request-duration histogram is exposed exactly as prom-client exposes a Histogram of the same observations', async () => {
  const { Histogram, Registry } = await import('prom-client');
  const m = createMetrics();
  const reference = new Registry();
  const expected = new Histogram({
    name: 'vexil_http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by route pattern.',
    labelNames: ['route'],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [reference],
  });
  const observations: Array<[string, number]> = [
    ['/flags', 0.00004],
    ['/flags', 0.0001], // on a bound: counted in that bucket (le is inclusive)
    ['/flags', 0.0007],
    ['/flags', 3], // above every bound: +Inf only
    ['/decide', 0.02],
  ];
  for (const [route, seconds] of observations) {
    m.httpDuration.series(route).observe(seconds);
    expected.labels({ route }).observe(seconds);
  }
  const ours = await m.registry.getSingleMetricAsString('vexil_http_request_duration_seconds');
  assert.equal(ours, await reference.metrics().then((t) => t.trimEnd()));
  assert.match(ours, /vexil_http_request_duration_seconds_bucket\{le="0.0001",route="\/flags"\} 2\n/);
  assert.match(ours, /vexil_http_request_duration_seconds_count\{route="\/flags"\} 4/);
  m.registry.resetMetrics();
  assert.match(await m.registry.getSingleMetricAsString('vexil_http_request_duration_seconds'), /_count\{route="\/flags"\} 0/);
});

test('a worker label (VEXIL_WORKERS) is on every sample, the route histogram included', async () => {
  const m = createMetrics({ labels: { worker: '3' } });
  m.pending(m.flagEvaluations.labels({ outcome: 'enabled' })).inc(2);
  m.httpDuration.series('/flags').observe(0.0007);
  m.snapshotsCached.set(4);
  const samples = (await m.registry.metrics()).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  assert.ok(samples.length > 0);
  for (const sample of samples) assert.match(sample, /worker="3"/, sample);
});
