/**
 * @module test/helpers/vexil-process
 * Runs Vexil as a real child process (`node --import tsx src/main.ts`) for tests that need
 * signals, exit codes and process start-up: its JSON log lines are parsed as they arrive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** One parsed pino line. */
export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

/** A running Vexil process. */
export interface VexilProcess {
  child: ChildProcess;
  /** Every JSON log line so far. */
  logs: LogLine[];
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal) and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * The `count`-th log line whose msg matches, waiting for it (rejects if the process exits
   * first, or after `limitMs`).
   */
  waitForLog(msg: string | RegExp, count?: number, limitMs?: number): Promise<LogLine>;
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Starts `src/main.ts` with only `env` (plus PATH/HOME, and VEXIL_WORKERS=1 unless given) as its environment. */
export function spawnVexil(env: Record<string, string>): VexilProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    // One process unless the test asks for workers (the default is one per core).
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', HOST: '127.0.0.1', VEXIL_WORKERS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const waiters: Array<() => void> = [];
  let stderr = '';
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line.startsWith('{')) {
        try {
          logs.push(JSON.parse(line) as LogLine);
        } catch {
          // not a log line (first-start secrets are plain text)
        }
      }
    }
    for (const w of waiters.splice(0)) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  let exitedFlag = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exitedFlag = true;
      for (const w of waiters.splice(0)) w();
      resolve({ code, signal });
    });
  });
  const waitForLog = (msg: string | RegExp, count = 1, limitMs = 60_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const matches = (l: LogLine) => (typeof msg === 'string' ? l.msg === msg : msg.test(String(l.msg)));
      const timer = setTimeout(() => reject(new Error(`no log line ${String(msg)} within ${limitMs} ms; stderr: ${stderr}`)), limitMs);
      const check = () => {
        const found = logs.filter(matches)[count - 1];
        if (found) {
          clearTimeout(timer);
          resolve(found);
        } else if (exitedFlag) {
          clearTimeout(timer);
          reject(new Error(`process exited before logging ${String(msg)}; stderr: ${stderr}`));
        } else waiters.push(check);
      };
      check();
    });
  return { child, logs, stderr: () => stderr, exited, waitForLog };
}
