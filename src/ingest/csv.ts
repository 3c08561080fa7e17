/**
 * @module ingest/csv
 * A streaming RFC 4180 CSV reader: comma separated, `"` quoting with `""` escapes, quoted fields
 * may hold commas and line breaks, LF or CRLF line ends. Yields rows as soon as they end.
 */
import { VexilError } from '../errors.ts';

/** One row and the (1-based) line it starts on. */
export interface CsvRow {
  cells: string[];
  line: number;
}

/**
 * Reads rows from text chunks (split anywhere, even inside a quoted field).
 * @throws VexilError VXL_VALIDATION for a quote inside an unquoted field, text after a closing
 *   quote, or an unterminated quoted field.
 */
export async function* readCsvRows(chunks: AsyncIterable<string>): AsyncGenerator<CsvRow> {
  let cells: string[] = [];
  let field = '';
  let quoted = false; // inside a quoted field
  let closed = false; // a quoted field just closed; only , or a line end may follow
  let pendingQuote = false; // saw `"` inside quotes: either an escape or the closing quote
  let pendingCr = false;
  let line = 1;
  let rowLine = 1;
  const bad = (what: string) => new VexilError('VXL_VALIDATION', { message: `line ${line}: ${what}` });

  for await (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (pendingQuote) {
        pendingQuote = false;
        if (c === '"') {
          field += '"';
          continue;
        }
        quoted = false;
        closed = true;
      }
      if (quoted) {
        if (c === '"') pendingQuote = true;
        else {
          if (c === '\n') line++;
          field += c;
        }
        continue;
      }
      if (pendingCr && c !== '\n') field += '\r';
      pendingCr = false;
      if (c === ',') {
        cells.push(field);
        field = '';
        closed = false;
      } else if (c === '\n') {
        cells.push(field);
        yield { cells, line: rowLine };
        cells = [];
        field = '';
        closed = false;
        rowLine = ++line;
      } else if (c === '\r') {
        pendingCr = true;
      } else if (closed) {
        throw bad('unexpected text after a closing quote');
      } else if (c === '"') {
        if (field !== '') throw bad('a quote inside an unquoted field');
        quoted = true;
      } else {
        field += c;
      }
    }
  }
  if (pendingQuote) {
    quoted = false;
  }
  if (quoted) throw bad('unterminated quoted field');
  if (field !== '' || cells.length > 0 || closed) {
    cells.push(field);
    yield { cells, line: rowLine };
  }
}
