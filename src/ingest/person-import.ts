/**
 * @module ingest/person-import
 * Reading persons for bulk import (`POST …/persons/bulk/`, `vexil import persons`): a JSON
 * array, JSON lines, or CSV with a `distinct_id` column and one column per property. Streaming:
 * records are yielded as they are read, so a file of millions never sits in memory.
 */
import { VexilError } from '../errors.ts';
import { readCsvRows } from './csv.ts';

/** One person to import. */
export interface PersonRecord {
  distinctId: string;
  properties: Record<string, unknown>;
}

export type ImportFormat = 'json' | 'jsonl' | 'csv';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(where: string, what: string): VexilError {
  return new VexilError('VXL_VALIDATION', { message: `${where}: ${what}` });
}

/**
 * Validates one JSON record: `{"distinct_id": "u1", "properties": {…}}`, or a flat object whose
 * other keys are the properties (`{"distinct_id": "u1", "email": "…"}`).
 * @throws VexilError VXL_VALIDATION naming `where` (e.g. "line 12").
 */
export function toPersonRecord(value: unknown, where: string): PersonRecord {
  if (!isObject(value)) throw invalid(where, 'expected a JSON object with distinct_id');
  const raw = value.distinct_id;
  let distinctId: string;
  if (typeof raw === 'string' && raw.trim() !== '') distinctId = raw;
  else if (typeof raw === 'number' && Number.isFinite(raw)) distinctId = String(raw);
  else throw invalid(where, 'distinct_id must be a non-empty string or a number');
  if ('properties' in value) {
    if (value.properties !== null && !isObject(value.properties)) throw invalid(where, 'properties must be a JSON object');
    return { distinctId, properties: value.properties ?? {} };
  }
  const { distinct_id: _ignored, ...rest } = value;
  return { distinctId, properties: rest };
}

/** The format from a file name, or null to sniff the content. */
export function formatFromName(name: string): ImportFormat | null {
  const lower = name.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.json')) return 'json';
  return null;
}

/** `[` ⇒ a JSON array, `{` ⇒ JSON lines, anything else ⇒ CSV. */
export function sniffFormat(head: string): ImportFormat {
  const c = head.trimStart().charAt(0);
  return c === '[' ? 'json' : c === '{' ? 'jsonl' : 'csv';
}

/** Splits text chunks into lines (LF or CRLF), yielding each with its 1-based number. */
async function* lines(chunks: AsyncIterable<string>): AsyncGenerator<{ line: string; n: number }> {
  let rest = '';
  let n = 0;
  for await (const chunk of chunks) {
    rest += chunk;
    let i: number;
    while ((i = rest.indexOf('\n')) !== -1) {
      const line = rest.slice(0, i);
      rest = rest.slice(i + 1);
      yield { line: line.endsWith('\r') ? line.slice(0, -1) : line, n: ++n };
    }
  }
  if (rest !== '') yield { line: rest, n: ++n };
}

async function* readJsonLines(chunks: AsyncIterable<string>): AsyncGenerator<PersonRecord> {
  for await (const { line, n } of lines(chunks)) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw invalid(`line ${n}`, 'invalid JSON');
    }
    yield toPersonRecord(value, `line ${n}`);
  }
}

async function* readJsonArray(chunks: AsyncIterable<string>): AsyncGenerator<PersonRecord> {
  let text = '';
  for await (const chunk of chunks) text += chunk;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid('body', 'invalid JSON');
  }
  if (!Array.isArray(value)) throw invalid('body', 'expected a JSON array of persons');
  for (let i = 0; i < value.length; i++) yield toPersonRecord(value[i], `item ${i}`);
}

/**
 * CSV (RFC 4180): the header names the columns; `distinct_id` is required, every other column
 * is a property whose value is kept as text. Empty cells are left out, so they do not
 * overwrite a stored value with "".
 */
async function* readCsv(chunks: AsyncIterable<string>): AsyncGenerator<PersonRecord> {
  let header: string[] | null = null;
  let idColumn = -1;
  for await (const { cells, line } of readCsvRows(chunks)) {
    if (header === null) {
      header = cells.map((c) => c.trim());
      idColumn = header.indexOf('distinct_id');
      if (idColumn === -1) throw invalid('line 1', 'the CSV header has no distinct_id column');
      continue;
    }
    if (cells.length === 1 && cells[0] === '') continue;
    if (cells.length !== header.length) throw invalid(`line ${line}`, `expected ${header.length} columns, got ${cells.length}`);
    const distinctId = cells[idColumn]!;
    if (distinctId.trim() === '') throw invalid(`line ${line}`, 'distinct_id is empty');
    const properties: Record<string, unknown> = {};
    header.forEach((name, i) => {
      if (i !== idColumn && cells[i] !== '') properties[name] = cells[i];
    });
    yield { distinctId, properties };
  }
}

/** Reads persons from text chunks in the given format. Errors are VexilError VXL_VALIDATION naming the line. */
export function readPersons(chunks: AsyncIterable<string>, format: ImportFormat): AsyncGenerator<PersonRecord> {
  switch (format) {
    case 'json':
      return readJsonArray(chunks);
    case 'jsonl':
      return readJsonLines(chunks);
    case 'csv':
      return readCsv(chunks);
  }
}
