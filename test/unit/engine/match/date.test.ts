/**
 * @module test/unit/engine/match/date
 * The date operator family (spec §5): rows in cases/date.json.
 */
import { runCaseTable } from './run-cases.ts';

runCaseTable('date.json');
