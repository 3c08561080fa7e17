/**
 * @module cli/import-persons
 * `vexil import persons FILE --project ID`: streams a JSON lines, JSON array or CSV file (gzip
 * allowed) into the store. Two passes: the whole file is validated first, so a bad row on line
 * 900,000 imports nothing; then it is read again and written in batches.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { formatFromName, readPersons, sniffFormat, type ImportFormat, type PersonRecord } from '../ingest/person-import.ts';
import type { Store } from '../store/store.ts';
import { VexilError } from '../errors.ts';

/** The text of a file as chunks; `.gz` files are gunzipped on the fly. */
async function* fileChunks(path: string): AsyncGenerator<string> {
  const raw = createReadStream(path, { highWaterMark: 1024 * 1024 });
  const stream = path.toLowerCase().endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  stream.setEncoding('utf8');
  for await (const chunk of stream) yield chunk as string;
}

/** The format named on the command line, by the file name, or by the first bytes. */
async function formatOf(path: string, explicit: string | undefined): Promise<ImportFormat> {
  if (explicit !== undefined) {
    if (explicit === 'csv' || explicit === 'jsonl' || explicit === 'json') return explicit;
    throw new VexilError('VXL_VALIDATION', { message: `--format must be csv, jsonl or json, got '${explicit}'` });
  }
  const byName = formatFromName(path.replace(/\.gz$/i, ''));
  if (byName !== null) return byName;
  for await (const chunk of fileChunks(path)) {
    if (chunk.trim() !== '') return sniffFormat(chunk);
  }
  return 'jsonl';
}

export interface ImportPersonsOptions {
  store: Store;
  projectId: number;
  file: string;
  format?: string;
  /** Progress and result lines. */
  print(line: string): void;
  /** Clock in ms, for the duration line. */
  now?: () => number;
}

/**
 * Validates, then imports. Returns persons written.
 * @throws VexilError VXL_NOT_FOUND (project), VXL_VALIDATION (a bad row, naming its line).
 */
export async function importPersonsFile(o: ImportPersonsOptions): Promise<number> {
  const now = o.now ?? Date.now;
  const started = now();
  try {
    const s = await stat(o.file);
    if (!s.isFile()) throw new Error('not a file');
  } catch {
    throw new VexilError('VXL_VALIDATION', { message: `cannot read ${o.file}: no such file` });
  }
  if ((await o.store.getProject(o.projectId)) === null) {
    throw new VexilError('VXL_NOT_FOUND', { message: `project ${o.projectId} does not exist` });
  }
  const format = await formatOf(o.file, o.format);
  let rows = 0;
  for await (const _ of readPersons(fileChunks(o.file), format)) rows++;
  o.print(`validated ${rows} rows (${format}) in ${((now() - started) / 1000).toFixed(1)} s`);
  const records: AsyncIterable<PersonRecord> = readPersons(fileChunks(o.file), format);
  const written = await o.store.importPersons(o.projectId, records);
  o.print(`imported ${written} persons into project ${o.projectId} in ${((now() - started) / 1000).toFixed(1)} s`);
  return written;
}
