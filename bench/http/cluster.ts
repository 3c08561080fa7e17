/**
 * @module bench/http/cluster
 * Launcher run as its own process by the HTTP benchmark: `node dist/bench/http/cluster.js
 * <baseline|unleash> <workers>` starts that many node:cluster workers on one port (PORT, HOST from
 * the environment), the same number Vexil runs through its own VEXIL_WORKERS.
 *
 * Workers are forked one after the other, each once the previous one listens: every Unleash
 * process migrates its database at start, and two doing it at once on an empty database would race. The default scheduling policy (round-robin in the primary) is kept; wrk's
 * connections are long-lived, so the primary only hands out connections, it does not relay data.
 * SIGTERM in the primary is passed to every worker (both services drain and exit on it).
 */
import cluster, { type Worker } from 'node:cluster';
import http from 'node:http';
import { once } from 'node:events';

/** The baseline's answer: a fixed JSON document of exactly 1,024 bytes. */
function baselineBody(): Buffer {
  const head = '{"flags":{"bench":{"key":"bench","enabled":true,"variant":null}},"padding":"';
  const tailText = '"}';
  return Buffer.from(head + 'x'.repeat(1024 - head.length - tailText.length) + tailText);
}

/**
 * The minimal node:http server: reads the request body, answers POST with the fixed 1 KB JSON.
 * With `spinUs` > 0 it first burns that much CPU per POST: case 6's CPU-matched control, a server
 * whose only difference from the baseline is Vexil's extra CPU per request, so its tail is what
 * that CPU alone costs at a given rate.
 */
function serveBaseline(port: number, host: string, spinUs: number): void {
  const body = baselineBody();
  const spin = () => {
    const until = performance.now() + spinUs / 1000;
    while (performance.now() < until);
  };
  const headers = { 'content-type': 'application/json', 'content-length': String(body.length) };
  http
    .createServer((req, res) => {
      req.on('data', () => undefined);
      req.on('end', () => {
        if (req.method === 'POST') {
          if (spinUs > 0) spin();
          res.writeHead(200, headers);
          res.end(body);
        } else {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end('ok');
        }
      });
    })
    .listen(port, host);
}

async function primary(target: string, workers: number): Promise<void> {
  let stopping = false;
  const all: Worker[] = [];
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (all.every((w) => w.isDead())) process.exit(0);
      return;
    }
    process.stderr.write(`cluster: worker ${worker.process.pid} exited (code ${code}, signal ${signal}); stopping\n`);
    for (const w of all) if (!w.isDead()) w.process.kill('SIGKILL');
    process.exit(1);
  });
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    for (const w of all) if (!w.isDead()) w.process.kill('SIGTERM');
    if (all.every((w) => w.isDead())) process.exit(0);
    setTimeout(() => {
      for (const w of all) if (!w.isDead()) w.process.kill('SIGKILL');
      process.exit(0);
    }, 8000).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  for (let i = 0; i < workers; i++) {
    const worker = cluster.fork();
    all.push(worker);
    await once(worker, 'listening');
  }
  process.stdout.write(`cluster: ${workers} worker(s) listening: ${all.map((w) => w.process.pid).join(' ')}\n`);
}

async function main(): Promise<void> {
  const [target, workersArg] = process.argv.slice(2);
  if (target !== 'baseline' && target !== 'unleash') throw new Error('usage: cluster.js <baseline|unleash> <workers>');
  if (cluster.isPrimary) return primary(target, Math.max(1, Number(workersArg) || 1));
  if (target === 'baseline') return serveBaseline(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1', Number(process.env.BENCH_BASELINE_SPIN_US ?? 0));
  return (await import('./unleash-worker.ts')).startUnleashWorker();
}

main().catch((err: unknown) => {
  process.stderr.write(`cluster: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
