/**
 * @module admin/cohort-csv
 * The ids of a static-cohort CSV upload, read as PostHog reads them (`posthog/api/cohort.py`,
 * `CSVConfig` and `_calculate_static_by_csv`):
 * - leading empty rows are skipped;
 * - one non-empty column: a `person_id` or `email` header names the ids below it; anything else
 *   is data, and the first row is a distinct id too (PostHog keeps this for old uploads, so a
 *   lone `distinct_id` header is read as an id);
 * - several columns: the first row is a header, and the id column is the first `person_id`
 *   header, else `distinct_id`, else `email` (case-insensitive); rows too short are skipped;
 * - cells are trimmed, blank ones skipped.
 */
import { VexilError } from '../errors.ts';
import { readCsvRows } from '../ingest/csv.ts';

export type CohortCsvIdType = 'person_id' | 'distinct_id' | 'email';

const PERSON_ID_HEADERS = ['person_id', 'person-id', 'person .id'];
const DISTINCT_ID_HEADERS = ['distinct_id', 'distinct-id'];
const EMAIL_HEADERS = ['email', 'e-mail'];

/** PostHog's CSVConfig.ErrorMessages. */
const MESSAGES = {
  empty: 'CSV file is empty. Please upload a CSV file with at least one row of data.',
  missingColumn: (columns: string) =>
    `Multi-column CSV must contain at least one column with a supported ID header: 'person_id', 'Person .id' (PostHog export format), 'distinct_id', 'distinct-id', or 'email'. Found columns: ${columns}`,
  noIds: 'CSV file contains no valid person IDs, distinct IDs, or email addresses. Please ensure your file has data rows with person IDs, distinct IDs, or email addresses.',
  encoding: 'CSV file encoding is not supported. Please save your file as UTF-8 and try again.',
  format: 'CSV file format is invalid. Please check your file format and try again.',
};

function csvError(message: string): VexilError {
  return new VexilError('VXL_VALIDATION', { message, attr: 'csv' });
}

const isHeader = (cell: string, names: readonly string[]) => names.includes(cell.trim().toLowerCase());

async function* once(text: string): AsyncGenerator<string> {
  yield text;
}

/**
 * The id type and the ids of a CSV file's bytes (UTF-8).
 * @throws VexilError VXL_VALIDATION (attr `csv`) with PostHog's messages: empty file, no id
 *   column, no ids, not UTF-8, malformed CSV.
 */
export async function readCohortCsv(bytes: Uint8Array): Promise<{ idType: CohortCsvIdType; ids: string[] }> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw csvError(MESSAGES.encoding);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte-order mark, as spreadsheets write
  const rows: string[][] = [];
  try {
    for await (const row of readCsvRows(once(text))) rows.push(row.cells);
  } catch (err) {
    if (err instanceof VexilError) throw csvError(MESSAGES.format);
    throw err;
  }
  const first = rows.findIndex((cells) => cells.some((c) => c !== ''));
  if (first === -1) throw csvError(MESSAGES.empty);
  const header = rows[first]!;
  const rest = rows.slice(first + 1);

  let idType: CohortCsvIdType;
  let column = 0;
  let data: string[][];
  if (header.filter((c) => c.trim() !== '').length <= 1) {
    if (isHeader(header[0]!, PERSON_ID_HEADERS)) [idType, data] = ['person_id', rest];
    else if (isHeader(header[0]!, EMAIL_HEADERS)) [idType, data] = ['email', rest];
    else [idType, data] = ['distinct_id', [header, ...rest]];
  } else {
    const find = (names: readonly string[]) => header.findIndex((c) => isHeader(c, names));
    const found = ([[find(PERSON_ID_HEADERS), 'person_id'], [find(DISTINCT_ID_HEADERS), 'distinct_id'], [find(EMAIL_HEADERS), 'email']] as const)
      .find(([index]) => index !== -1);
    if (found === undefined) {
      const columns = header.filter((c) => c.trim() !== '').join(', ');
      throw csvError(MESSAGES.missingColumn(columns || 'none'));
    }
    [column, idType] = found;
    data = rest;
  }
  const ids: string[] = [];
  for (const cells of data) {
    const id = cells.length > column ? cells[column]!.trim() : '';
    if (id !== '') ids.push(id);
  }
  if (ids.length === 0) throw csvError(MESSAGES.noIds);
  return { idType, ids };
}
