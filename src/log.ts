/**
 * @module log
 * All logger defaults in one place: pino level, fixed serializers and the redaction list that keeps
 * tokens, keys and person properties out of every log line (STYLE §9).
 */
import { pino, type Logger, type LoggerOptions } from 'pino';

/**
 * Paths pino censors. Request serialization below already drops headers and query strings;
 * these catch anything a handler logs by accident.
 */
export const redactPaths: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'token',
  'apiToken',
  'api_key',
  'personalApiKey',
  'secret',
  'key',
  '*.token',
  '*.apiToken',
  '*.api_key',
  '*.personalApiKey',
  '*.secret',
  'person_properties',
  'personProperties',
  '*.person_properties',
  '*.personProperties',
  '*.$set',
  '*.$set_once',
];

/** Drops the query string: `?token=phc_…` must not reach the log. */
function pathOnly(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** pino options for a level. Exposed so tests can build a logger writing to a stream. */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: [...redactPaths], censor: '[redacted]' },
    serializers: {
      err: pino.stdSerializers.err,
      req: (req: { method?: string; url?: string; id?: string }) => ({ method: req.method, url: pathOnly(req.url), reqId: req.id }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
  };
}

/** The process logger (JSON lines on stdout). */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return destination ? pino(loggerOptions(level), destination) : pino(loggerOptions(level));
}

/** The pino logger type, re-exported so callers need not import pino. */
export type { Logger };
