/**
 * @module test/integration/deploy/deploy-files
 * Reads the deployment files (Dockerfile, .dockerignore, docker-compose.yml, deploy/haproxy.cfg,
 * deploy/k8s/) into plain objects for the deployment test, and derives from the code what they
 * must agree with: the variables loadConfig reads and the shutdown drain.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../../src/config.ts';

/** Repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** A file of the repository, as text. */
export const readRepoFile = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

/**
 * Every environment variable loadConfig reads, found by running it on an environment that
 * records each name asked for: the list follows src/config.ts, never a copy of it.
 */
export function configEnvNames(): Set<string> {
  const seen = new Set<string>();
  const env = new Proxy({} as Record<string, string | undefined>, {
    get(_target, name) {
      if (typeof name === 'string') seen.add(name);
      return undefined;
    },
  });
  loadConfig(env);
  return seen;
}

/**
 * The longest graceful shutdown, ms: the config's `shutdownTimeoutMs` default when loadConfig has
 * one (VEXIL_SHUTDOWN_TIMEOUT_MS), else src/main.ts's SHUTDOWN_TIMEOUT_MS constant.
 */
export function shutdownDrainMs(): number {
  const fromConfig = (loadConfig({}) as unknown as Record<string, unknown>).shutdownTimeoutMs;
  if (typeof fromConfig === 'number') return fromConfig;
  const m = /SHUTDOWN_TIMEOUT_MS\s*=\s*([\d_]+)/.exec(readRepoFile('src/main.ts'));
  if (m === null) throw new Error('no shutdown timeout found in src/config.ts or src/main.ts');
  return Number(m[1]!.replace(/_/g, ''));
}

/** One Dockerfile instruction, continuation lines joined. */
export interface DockerInstruction {
  op: string;
  args: string;
  /** Index of the build stage (FROM) it belongs to. */
  stage: number;
}

/** Parses a Dockerfile into instructions (comments dropped, `\` continuations joined). */
export function parseDockerfile(text: string): DockerInstruction[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) current += line.slice(0, -1) + ' ';
    else {
      logical.push(current + line);
      current = '';
    }
  }
  let stage = -1;
  return logical.map((line) => {
    const [op, ...rest] = line.split(/\s+/);
    const upper = op!.toUpperCase();
    if (upper === 'FROM') stage += 1;
    return { op: upper, args: rest.join(' '), stage };
  });
}

/** `KEY=value KEY2=value2` (the form ENV uses here) → entries. */
export function parseEnvInstruction(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of args.split(/\s+/)) {
    const eq = pair.indexOf('=');
    if (eq > 0) out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** docker-compose.yml with its `<<` merge keys applied. */
export function loadCompose(): { services: Record<string, ComposeService>; volumes?: Record<string, unknown> } {
  return parse(readRepoFile('docker-compose.yml'), { merge: true });
}

export interface ComposeService {
  build?: unknown;
  image?: string;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: unknown;
  healthcheck?: unknown;
  stop_grace_period?: string;
}

/** A Kubernetes object, as much of it as the test reads. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** Every object of the kustomization's resources, by `Kind/name`. */
export function loadKustomization(dir = 'deploy/k8s'): { kustomization: { resources: string[] }; objects: Map<string, K8sObject> } {
  const kustomization = parse(readRepoFile(join(dir, 'kustomization.yaml'))) as { resources: string[] };
  const objects = new Map<string, K8sObject>();
  for (const file of kustomization.resources) {
    for (const doc of parseAllDocuments(readRepoFile(join(dir, file)))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
      const obj = doc.toJS() as K8sObject | null;
      if (obj !== null) objects.set(`${obj.kind}/${obj.metadata.name}`, obj);
    }
  }
  return { kustomization, objects };
}

/** HAProxy config: the health-check request and each backend server's host and port. */
export function parseHaproxy(text: string): { checkPath: string | null; servers: { name: string; host: string; port: number }[] } {
  const check = /option\s+httpchk\s+GET\s+(\S+)/.exec(text);
  const servers = [...text.matchAll(/^\s*server\s+(\S+)\s+([^:\s]+):(\d+)/gm)].map((m) => ({ name: m[1]!, host: m[2]!, port: Number(m[3]) }));
  return { checkPath: check?.[1] ?? null, servers };
}
