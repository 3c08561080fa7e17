/**
 * @module client/sse-parse
 * Reads Server-Sent Events from a fetch response body (the subset Vexil's streams use: `id`,
 * `event`, `data`, comments). Node 20 has no EventSource, and the definitions stream needs an
 * `Authorization` header, which EventSource cannot send anyway.
 */

/** One event as the stream sent it. */
export interface StreamEvent {
  id: string | undefined;
  event: string;
  data: string;
}

/** Yields each event of `body` until it ends; comments (heartbeats) call `onComment`. */
export async function* readEvents(body: AsyncIterable<Uint8Array>, onComment?: (text: string) => void): AsyncGenerator<StreamEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: RegExpExecArray | null;
    while ((end = /\r?\n\r?\n/.exec(buffer)) !== null) {
      const block = buffer.slice(0, end.index);
      buffer = buffer.slice(end.index + end[0].length);
      let id: string | undefined;
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith(':')) {
          onComment?.(line.slice(1).trim());
          continue;
        }
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') id = value;
        else if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length > 0) yield { id, event, data: data.join('\n') };
    }
  }
}
