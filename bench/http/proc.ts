/**
 * @module bench/http/proc
 * Child processes for the HTTP benchmark: spawn with output to a log file, wait for an HTTP
 * endpoint, stop by pid, read resident memory. Loopback only.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface Spawned {
  child: ChildProcess;
  logFile: string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
}

/** Spawns `node args…` with stdout and stderr appended to `logFile`. */
export function spawnNode(args: string[], options: { env: NodeJS.ProcessEnv; logFile: string; cwd?: string }): Spawned {
  const fd = openSync(options.logFile, 'a');
  const child = spawn(process.execPath, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, logFile: options.logFile, exited };
}

/** The last `lines` lines of a log file, for error messages. */
export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Polls `url` every `everyMs` until it answers `status`; resolves with the ms waited.
 * @throws when `timeoutMs` passes first or the process exits.
 */
export async function waitForHttp(url: string, o: { timeoutMs: number; everyMs?: number; status?: number; proc?: Spawned }): Promise<number> {
  const t0 = performance.now();
  const every = o.everyMs ?? 25;
  let exited = false;
  void o.proc?.exited.then(() => {
    exited = true;
  });
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === (o.status ?? 200)) return performance.now() - t0;
    } catch {
      // not listening yet
    }
    if (exited) throw new Error(`process exited before ${url} answered:\n${o.proc ? tail(o.proc.logFile) : ''}`);
    if (performance.now() - t0 > o.timeoutMs) throw new Error(`${url} did not answer within ${o.timeoutMs} ms${o.proc ? `:\n${tail(o.proc.logFile)}` : ''}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
export async function stop(proc: Spawned | null | undefined, graceMs = 5000): Promise<void> {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  await proc.exited;
  clearTimeout(timer);
}

/** Resident set size of a process, MiB, from /proc (null when unavailable). */
export function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Whether a command exists on PATH. */
export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on Linux). */
const TICKS_PER_S = 100;

/** CPU seconds (user + system) used so far by each of `pids` together; gone processes count 0. */
export function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    } catch {
      // exited
    }
  }
  return ticks / TICKS_PER_S;
}

function allPids(): number[] {
  try {
    return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  } catch {
    return [];
  }
}

/** `pid` and its direct children (a cluster primary and its workers). */
export function withChildren(pid: number): number[] {
  const out = [pid];
  for (const p of allPids()) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(p);
    } catch {
      // exited
    }
  }
  return out;
}

/** PostgreSQL backends serving `database` (their process title names it). */
export function postgresBackends(database: string): number[] {
  const out: number[] = [];
  for (const p of allPids()) {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (cmd.startsWith('postgres: ') && cmd.split(' ').includes(database)) out.push(p);
    } catch {
      // exited
    }
  }
  return out;
}
