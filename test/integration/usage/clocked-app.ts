/**
 * @module test/integration/usage/clocked-app
 * A Vexil app on a test store with a clock the test moves, background intervals off (tests
 * flush usage and run the scheduler themselves), listening on loopback for real HTTP.
 */
import { createApp, type App } from '../../../src/app.ts';
import { loadConfig } from '../../../src/config.ts';
import { createLogger } from '../../../src/log.ts';
import type { ChangeBus } from '../../../src/cache/change-bus.ts';
import type { Store } from '../../../src/store/store.ts';

/** A clock tests set and advance; ms since the epoch. */
export class TestClock {
  constructor(public ms: number) {}
  now = (): number => this.ms;
  advanceDays(days: number): void {
    this.ms += days * 86_400_000;
  }
}

export interface ClockedApp {
  app: App;
  base: string;
  /** The personal API key (bootstrap key, the same on every node of a test). */
  key: string;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

/** Starts an app on `store` (not owned: the caller closes it) with `clock`; nodes sharing `bus` see each other's changes. */
export async function startClockedApp(store: Store, clock: TestClock, key: string, env: Record<string, string> = {}, bus?: ChangeBus): Promise<ClockedApp> {
  const config = loadConfig({ LOG_LEVEL: 'silent', VEXIL_SNAPSHOT_POLL_SECONDS: '3600', VEXIL_BOOTSTRAP_KEY: key, ...env });
  const app = await createApp(config, {
    store,
    log: createLogger('silent'),
    print: () => undefined,
    now: clock.now,
    defaultMetrics: false,
    webDir: null,
    backgroundTasks: false,
    bus,
  });
  await app.server.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const call: ClockedApp['call'] = async (method, path, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
  };
  return { app, base, key, call };
}
