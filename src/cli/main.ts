/**
 * @module cli/main
 * Entry of the `vexil` command (bin/vexil.js runs it through tsx).
 */
import { runCli } from './run.ts';

const code = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
});
// `serve` keeps running; every other command is done.
if (process.argv[2] !== 'serve') process.exitCode = code;
