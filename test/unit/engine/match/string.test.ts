/**
 * @module test/unit/engine/match/string
 * The string operator family (spec §5): rows in cases/string.json.
 */
import { runCaseTable } from './run-cases.ts';

runCaseTable('string.json');
