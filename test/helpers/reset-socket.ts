/**
 * @module test/helpers/reset-socket
 * Resets a TCP socket (RST, what a crashed peer or a dropped connection looks like) without
 * leaking it. `socket.resetAndDestroy()` alone is unsafe in a proxy: once a socket's write side
 * has been shut down (pipe() ends it when the other side ends), libuv refuses the reset
 * (`uv_tcp_close_reset` → EINVAL), Node emits an error and drops its reference to the handle
 * without closing it, and that handle keeps the process alive (and spinning) forever. While a
 * connect is still pending, Node defers the reset to a 'connect' that may never come.
 */
import type { Socket } from 'node:net';

/** Resets `socket` when it still can be, else destroys it; a no-op when already destroyed. */
export function resetSocket(socket: Socket | null | undefined): void {
  if (!socket || socket.destroyed) return;
  if (socket.connecting || socket.writableEnded) socket.destroy();
  else socket.resetAndDestroy();
}
