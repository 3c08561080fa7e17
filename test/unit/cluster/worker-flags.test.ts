import assert from 'node:assert/strict';
import { test } from 'node:test';
import { workerExecArgv } from '../../../src/cluster/worker-flags.ts';

test("replaces npm start's 2 MB semi-space and keeps every other flag in order", () => {
  assert.deepEqual(workerExecArgv(['--max-semi-space-size=2', '--enable-source-maps'], 16), ['--enable-source-maps', '--max-semi-space-size=16']);
});

test('adds the semi-space flag when the primary has none', () => {
  assert.deepEqual(workerExecArgv([], 16), ['--max-semi-space-size=16']);
  assert.deepEqual(workerExecArgv(['--import=./probe.js'], 8), ['--import=./probe.js', '--max-semi-space-size=8']);
});

test('removes the underscore spelling and the two-argument form with its value', () => {
  assert.deepEqual(workerExecArgv(['--max_semi_space_size=4', '--max-semi-space-size', '2', '--cpu-prof'], 16), ['--cpu-prof', '--max-semi-space-size=16']);
});

test('leaves flags that only start alike', () => {
  assert.deepEqual(workerExecArgv(['--max-semi-space-size-extra=1', '--min-semi-space-size=1'], 16), ['--max-semi-space-size-extra=1', '--min-semi-space-size=1', '--max-semi-space-size=16']);
});
