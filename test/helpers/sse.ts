/**
 * @module test/helpers/sse
 * A minimal Server-Sent Events reader over node:http for tests: collects events and comments,
 * and waits (bounded) for one that matches.
 */
import { request } from 'node:http';

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

export interface SseReader {
  status: number;
  events: SseEvent[];
  comments: string[];
  ended: boolean;
  /** Waits for the n-th (0-based) event matching `match`; fails after ~5 s of polling. */
  waitFor(match: (e: SseEvent) => boolean, what: string, nth?: number): Promise<SseEvent>;
  waitUntil(check: () => boolean, what: string): Promise<void>;
  close(): void;
}

/** Opens `url` as an event stream; resolves once the response headers arrive. */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      let buffer = '';
      const reader: SseReader = {
        status: res.statusCode ?? 0,
        events: [],
        comments: [],
        ended: false,
        async waitFor(match, what, nth = 0) {
          let found: SseEvent | undefined;
          await reader.waitUntil(() => (found = reader.events.filter(match)[nth]) !== undefined, what);
          return found!;
        },
        async waitUntil(check, what) {
          for (let i = 0; i < 500; i++) {
            if (check()) return;
            await new Promise((r) => setTimeout(r, 10));
          }
          throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(reader.events.map((e) => e.event))}`);
        },
        close: () => req.destroy(),
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let at: number;
        while ((at = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          const event: SseEvent = { event: 'message', data: '' };
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) reader.comments.push(line.slice(1).trim());
            else if (line.startsWith('event: ')) event.event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
            else if (line.startsWith('id: ')) event.id = line.slice(4);
          }
          if (data.length > 0) {
            event.data = data.join('\n');
            reader.events.push(event);
          }
        }
      });
      res.on('end', () => (reader.ended = true));
      res.on('close', () => (reader.ended = true));
      resolve(reader);
    });
    req.on('error', reject);
    req.end();
  });
}
