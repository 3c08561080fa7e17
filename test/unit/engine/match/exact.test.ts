/**
 * @module test/unit/engine/match/exact
 * `exact` / `is_not` (spec §5.1): rows in cases/exact.json.
 */
import { runCaseTable } from './run-cases.ts';

runCaseTable('exact.json');
