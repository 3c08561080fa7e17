/**
 * @module test/unit/engine/match/run-cases
 * Turns a JSON table of operator cases (test/unit/engine/match/cases/*.json) into named tests.
 *
 * A row: `{ name, operator, value?, property? | missing: true, expected, now?, timezone? }`.
 * An absent `value` key means the filter has no value; `expected: null` means
 * `compileOperator` must reject the operator. `now` (ISO 8601) and `timezone` default to the
 * table's, then to 2020-01-01T12:01:20.134Z and UTC.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { compileOperator } from '../../../../src/engine/match/operators.ts';

export interface OperatorCase {
  name: string;
  operator: string | null;
  value?: unknown;
  property?: unknown;
  missing?: boolean;
  expected: boolean | null;
  now?: string;
  timezone?: string;
}

interface CaseTable {
  /** Where the rows come from (spec section, PostHog source files). */
  source: string[];
  now?: string;
  timezone?: string;
  groups: Record<string, OperatorCase[]>;
}

const DEFAULT_NOW = '2020-01-01T12:01:20.134Z';

/** Evaluates one row: `null` when the operator is rejected. */
export function evaluateCase(row: OperatorCase, table: Pick<CaseTable, 'now' | 'timezone'> = {}): boolean | null {
  const op = compileOperator(row.operator, row.value, row.timezone ?? table.timezone ?? 'UTC');
  if (op === null) return null;
  if (row.missing === true) return op.whenMissing;
  const now = Date.parse(row.now ?? table.now ?? DEFAULT_NOW);
  return op.test(row.property, now);
}

/** Registers every row of `cases/<file>` as a test, grouped by the table's sections. */
export function runCaseTable(file: string): void {
  const table = JSON.parse(readFileSync(new URL(`./cases/${file}`, import.meta.url), 'utf8')) as CaseTable;
  for (const [group, rows] of Object.entries(table.groups)) {
    describe(group, () => {
      for (const row of rows) {
        test(row.name, () => {
          assert.ok(row.missing === true || Object.hasOwn(row, 'property'), `row "${row.name}" needs "property" or "missing"`);
          assert.equal(evaluateCase(row, table), row.expected);
        });
      }
    });
  }
}
