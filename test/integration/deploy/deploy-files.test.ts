/**
 * Deployment files against the code: the Dockerfile, docker-compose.yml with its HAProxy config,
 * and the Kubernetes manifests must use only variables loadConfig reads, listen on the port PORT
 * says, and probe routes a running Vexil answers 200 (checked on a real app, embedded store).
 * No Docker engine or cluster here: this is what can be checked without one (README "Deploying").
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../../src/config.ts';
import { startTestApp, type TestApp } from '../http/http-helpers.ts';
import {
  ROOT, configEnvNames, loadCompose, loadKustomization, parseDockerfile, parseEnvInstruction, parseHaproxy,
  readRepoFile, shutdownDrainMs, type K8sObject,
} from './deploy-files.ts';

const CONFIG_NAMES = configEnvNames();
const DEFAULT_PORT = 8000; // loadConfig({}).port, asserted below

const assertConfigNames = (names: Iterable<string>, where: string) => {
  for (const name of names) assert.ok(CONFIG_NAMES.has(name), `${where} sets ${name}, which loadConfig does not read`);
};

let t: TestApp;
let base: string;
before(async () => {
  t = await startTestApp('embedded');
  await t.app.server.listen({ port: 0, host: '127.0.0.1' });
  const addr = t.app.server.server.address();
  assert.ok(addr !== null && typeof addr === 'object');
  base = `http://127.0.0.1:${addr.port}`;
});
after(() => t.close());

/** The status a running Vexil answers for GET `path`. */
const statusOf = async (path: string): Promise<number> => (await fetch(base + path, { signal: AbortSignal.timeout(10_000) })).status;

describe('config names derived from src/config.ts', () => {
  it('includes the variables deployments must set', () => {
    for (const name of ['PORT', 'DATABASE_URL', 'REDIS_URL', 'VEXIL_BOOTSTRAP_KEY']) assert.ok(CONFIG_NAMES.has(name), name);
    assert.equal(loadConfig({}).port, DEFAULT_PORT);
  });
});

describe('Dockerfile', () => {
  const ins = parseDockerfile(readRepoFile('Dockerfile'));
  const last = Math.max(...ins.map((i) => i.stage));
  const final = ins.filter((i) => i.stage === last);

  it('is multi-stage and the runtime stage copies from the build stage', () => {
    assert.ok(last >= 1, 'at least two FROM');
    assert.ok(final.some((i) => i.op === 'COPY' && i.args.startsWith('--from=build')));
  });

  it('runs as a non-root user', () => {
    const user = final.filter((i) => i.op === 'USER').at(-1);
    assert.ok(user !== undefined, 'USER in the runtime stage');
    assert.ok(!['root', '0', '0:0'].includes(user.args), `USER ${user.args}`);
  });

  it('sets only config variables, exposes PORT and starts the compiled main', () => {
    const env = Object.assign({}, ...final.filter((i) => i.op === 'ENV').map((i) => parseEnvInstruction(i.args))) as Record<string, string>;
    assertConfigNames(Object.keys(env), 'Dockerfile ENV');
    const port = Number(env.PORT ?? DEFAULT_PORT);
    assert.deepEqual(final.filter((i) => i.op === 'EXPOSE').map((i) => Number(i.args)), [port]);
    const cmd = JSON.parse(final.find((i) => i.op === 'CMD')!.args) as string[];
    assert.deepEqual(cmd, ['node', 'dist/src/main.js'], 'node directly, so SIGTERM reaches Vexil');
    assert.ok(existsSync(join(ROOT, 'src/main.ts')));
  });

  it('copies only paths that exist and that .dockerignore lets through', () => {
    const ignored = readRepoFile('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    for (const i of ins.filter((x) => x.op === 'COPY' && !x.args.startsWith('--from'))) {
      const sources = i.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1);
      for (const src of sources) {
        assert.ok(existsSync(join(ROOT, src)), `COPY ${src}: no such path`);
        const excluded = ignored.some((p) => !p.startsWith('!') && (src === p || src.startsWith(p + '/')));
        const reincluded = ignored.some((p) => p === '!' + src);
        assert.ok(!excluded || reincluded, `COPY ${src} is excluded by .dockerignore`);
      }
    }
  });

  it('HEALTHCHECK runs node (no curl in the image) against /_liveness, and works', async () => {
    const hc = final.find((i) => i.op === 'HEALTHCHECK');
    assert.ok(hc !== undefined);
    const cmd = JSON.parse(hc.args.slice(hc.args.indexOf('CMD ') + 4)) as string[];
    assert.equal(cmd[0], 'node');
    assert.match(cmd.join(' '), /\/_liveness/);
    assert.equal(await statusOf('/_liveness'), 200);
    // Run the exact command: exit 0 against the running app, 1 against a closed port.
    const port = new URL(base).port;
    // Asynchronously: the app answering the check runs in this process.
    const run = async (p: string) => {
      const child = spawn(process.execPath, cmd.slice(1), { env: { ...process.env, PORT: p }, timeout: 20_000, stdio: 'ignore' });
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    };
    assert.equal(await run(port), 0);
    assert.equal(await run('1'), 1);
  });
});

describe('docker-compose.yml and HAProxy', () => {
  const { services } = loadCompose();
  const nodes = Object.entries(services).filter(([, s]) => s.build !== undefined);

  it('has two Vexil nodes, a load balancer, PostgreSQL and Redis', () => {
    assert.ok(nodes.length >= 2, 'two Vexil nodes built from the Dockerfile');
    assert.match(services.postgres?.image ?? '', /^postgres:/);
    assert.match(services.redis?.image ?? '', /^redis:/);
    assert.match(services.lb?.image ?? '', /^haproxy:/);
  });

  it('nodes set only config variables and reach the compose PostgreSQL and Redis', () => {
    for (const [name, s] of nodes) {
      const env = s.environment ?? {};
      assertConfigNames(Object.keys(env), `compose service ${name}`);
      assert.equal(new URL(env.DATABASE_URL!.replace(/\$\{[^}]*\}/g, 'x')).hostname, 'postgres');
      assert.equal(new URL(env.REDIS_URL!).hostname, 'redis');
      assert.ok(env.VEXIL_BOOTSTRAP_KEY?.includes(':?'), 'the bootstrap key has no default');
    }
  });

  it('HAProxy checks a route that answers 200 and forwards to every node on PORT', async () => {
    const lb = services.lb!;
    const mount = lb.volumes!.find((v) => v.includes('haproxy.cfg'))!;
    const cfg = parseHaproxy(readRepoFile(mount.split(':')[0]!.replace(/^\.\//, '')));
    assert.equal(cfg.checkPath, '/_readiness');
    assert.equal(await statusOf(cfg.checkPath), 200);
    assert.deepEqual(cfg.servers.map((s) => s.host).sort(), nodes.map(([n]) => n).sort());
    for (const [name, s] of nodes) {
      const port = Number(s.environment?.PORT ?? DEFAULT_PORT);
      assert.equal(cfg.servers.find((x) => x.host === name)!.port, port, name);
    }
  });
});

describe('Kubernetes manifests (deploy/k8s)', () => {
  const { objects } = loadKustomization();
  const get = (key: string): K8sObject => {
    const o = objects.get(key);
    assert.ok(o !== undefined, `${key} in the kustomization`);
    return o;
  };
  const deployment = get('Deployment/vexil') as any;
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const podLabels = deployment.spec.template.metadata.labels as Record<string, string>;
  const selects = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => podLabels[k] === v);
  const envSources = (container.envFrom as any[]).map((e) =>
    e.configMapRef ? (get(`ConfigMap/${e.configMapRef.name}`) as any).data : (get(`Secret/${e.secretRef.name}`) as any).stringData,
  ) as Record<string, string>[];
  const env: Record<string, string> = Object.assign({}, ...envSources);

  it('ConfigMap and Secret hold only config variables; the Secret holds the keys and URLs', () => {
    assertConfigNames(Object.keys(env), 'deploy/k8s envFrom');
    assertConfigNames((container.env ?? []).map((e: { name: string }) => e.name), 'deploy/k8s env');
    const secret = (get('Secret/vexil-secrets') as any).stringData;
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'VEXIL_BOOTSTRAP_KEY']) assert.ok(name in secret, `${name} in the Secret`);
  });

  it('the container port is PORT, and the Service targets it', () => {
    const port = Number(env.PORT ?? DEFAULT_PORT);
    assert.equal(container.ports[0].containerPort, port);
    const svc = get('Service/vexil') as any;
    assert.equal(svc.spec.ports[0].targetPort, container.ports[0].name);
    assert.ok(selects(svc.spec.selector));
  });

  it('probes hit routes a running Vexil answers 200, on the named port', async () => {
    for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      const probe = container[kind];
      assert.ok(probe?.httpGet, `${kind} is an HTTP probe`);
      assert.equal(probe.httpGet.port, container.ports[0].name, kind);
      assert.equal(await statusOf(probe.httpGet.path), 200, `${kind} ${probe.httpGet.path}`);
    }
    assert.equal(container.readinessProbe.httpGet.path, '/_readiness');
    assert.equal(container.livenessProbe.httpGet.path, '/_liveness');
    // Readiness waits up to 2 s for the database (src/http/routes/health.ts).
    assert.ok(container.readinessProbe.timeoutSeconds > 2);
  });

  it('the grace period covers preStop plus the shutdown drain', () => {
    const preStop = (container.lifecycle.preStop.exec.command as string[]).join(' ');
    const preStopMs = Number(/setTimeout\([^,]+,\s*(\d+)\)/.exec(preStop)?.[1]);
    assert.ok(preStopMs > 0, 'preStop waits');
    assert.ok(pod.terminationGracePeriodSeconds * 1000 > preStopMs + shutdownDrainMs(), 'grace > preStop + drain');
  });

  it('runs as non-root; HPA and PDB target the Deployment pods', () => {
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(deployment.spec.strategy.rollingUpdate.maxUnavailable, 0);
    const hpa = get('HorizontalPodAutoscaler/vexil') as any;
    assert.equal(hpa.apiVersion, 'autoscaling/v2');
    assert.deepEqual([hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name], ['Deployment', 'vexil']);
    assert.ok(hpa.spec.minReplicas >= 2);
    const pdb = get('PodDisruptionBudget/vexil') as any;
    assert.equal(pdb.apiVersion, 'policy/v1');
    assert.ok(selects(pdb.spec.selector.matchLabels));
    assert.ok(selects(deployment.spec.selector.matchLabels));
  });
});
