/**
 * @module test/unit/engine/match/numeric
 * The numeric operator family (spec §5): rows in cases/numeric.json.
 */
import { runCaseTable } from './run-cases.ts';

runCaseTable('numeric.json');
