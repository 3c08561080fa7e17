/**
 * @module test/unit/engine/match/semver
 * The semver operator family (spec §5): rows in cases/semver.json.
 */
import { runCaseTable } from './run-cases.ts';

runCaseTable('semver.json');
