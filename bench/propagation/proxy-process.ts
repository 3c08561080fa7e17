/**
 * @module bench/propagation/proxy-process
 * The Redis TCP proxy of bench:propagation in its own process. In the benchmark's process, every
 * Redis round trip of the three nodes waited for that event loop, busy with polling, and the
 * wait was counted as propagation. Driven over IPC: the parent sends 'refuse' / 'forward' /
 * 'close' and gets `{ done: command }` back; the first message is `{ port }`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTcpProxy } from '../../test/helpers/tcp-proxy.ts';

type Command = 'refuse' | 'forward' | 'close';

/** A proxy running in a child process; the same port across refuse/forward. */
export interface ProxyProcess {
  port: number;
  send(command: Command): Promise<void>;
}

/** Forks this file as a proxy in front of `host:port`. */
export async function startProxyProcess(host: string, port: number): Promise<ProxyProcess> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [host, String(port)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const listening = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`proxy process exited (${code})`)));
  });
  return {
    port: listening,
    send: (command) =>
      new Promise((resolve) => {
        const onMessage = (m: unknown) => {
          if ((m as { done?: string }).done !== command) return;
          child.off('message', onMessage);
          resolve();
        };
        child.on('message', onMessage);
        child.send(command);
      }),
  };
}

// Run as the child: `node proxy-process.js <host> <port>`.
if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  const proxy = await startTcpProxy({ host: process.argv[2]!, port: Number(process.argv[3]) });
  process.on('message', (command: Command) => {
    const done = () => process.send!({ done: command });
    if (command === 'refuse') void proxy.refuse().then(done);
    else if (command === 'forward') void proxy.forward().then(done);
    else void proxy.close().then(() => {
      done();
      process.disconnect();
    });
  });
  process.send({ port: proxy.port });
}
