/**
 * @module http/discard-body
 * Reading the rest of a rejected request body before answering. A client sending a body over the
 * limit is still sending when the 413 is ready; a connection closed under it is reset, and the
 * client sees EPIPE/ECONNRESET instead of the answer (Node's fetch does, from about 2 MB up on
 * loopback). Reading the body to its end first lets the client read the 413.
 */
import type { IncomingMessage } from 'node:http';

/**
 * Most body bytes read and thrown away before answering; past it the answer goes out at once and
 * the connection is closed (the client may see a reset). The time is bounded by the server's
 * requestTimeout, which covers receiving the whole request.
 */
export const DISCARD_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Calls `then` once `req`'s body has been read to its end (discarded), or at once when it is, or
 * is declared, larger than DISCARD_MAX_BYTES. `alreadyRead` counts bytes the caller consumed
 * before. Never calls `then` if the client goes away first (there is no one to answer).
 */
export function afterBodyDiscarded(req: IncomingMessage, alreadyRead: number, then: () => void): void {
  let read = alreadyRead;
  let called = false;
  const finish = () => {
    if (called) return;
    called = true;
    then();
  };
  // readableEnded as well: app.inject()'s requests have no `complete`.
  const received = req.complete || req.readableEnded;
  if (received || Number(req.headers['content-length']) > DISCARD_MAX_BYTES || read > DISCARD_MAX_BYTES) {
    finish();
    req.resume();
    return;
  }
  req.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (read > DISCARD_MAX_BYTES) finish();
  });
  req.once('end', finish);
  req.once('error', () => {
    called = true;
  });
  req.resume();
}
