/**
 * @module cli/run
 * The `vexil` command: argument parsing and dispatch. `runCli` never exits the process; it
 * returns the exit code, so tests can drive it with their own environment and output. Commands
 * on the database (serve, migrate, import persons) read the server's configuration; the others
 * talk to a running Vexil over HTTP (--url/--key or VEXIL_URL/VEXIL_KEY).
 */
import { loadConfig, type Config } from '../config.ts';
import { isVexilError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import { AdminClient, CliError } from './admin-client.ts';
import { allowOnly, parseArgs, UsageError, type ParsedArgs } from './args.ts';
import { exportCommand, importCodeCommand } from './commands/code.ts';
import { cohortCommand } from './commands/cohorts.ts';
import { importPosthogCommand } from './commands/posthog.ts';
import type { CommandContext } from './commands/context.ts';
import { evalCommand } from './commands/eval.ts';
import { flagCommand } from './commands/flags.ts';
import { keyCommand, projectCommand } from './commands/projects.ts';
import { COMMAND_HELP, USAGE } from './help.ts';

export { USAGE } from './help.ts';

/** Exit codes (sysexits.h): usage error, bad input data, bad configuration. */
export const EXIT = { ok: 0, failure: 1, usage: 64, data: 65, config: 78 } as const;

/** Where no --url and no VEXIL_URL is given. */
export const DEFAULT_URL = 'http://127.0.0.1:8000';

export interface CliIo {
  env: Readonly<Record<string, string | undefined>>;
  stdout(line: string): void;
  stderr(line: string): void;
}

/** Opens, migrates and closes the store around `run`; loaded lazily so HTTP commands start fast. */
async function withStore<T>(config: Config, run: (store: Store) => Promise<T>): Promise<T> {
  const { openStore } = await import('../store/open-store.ts');
  const store = await openStore({ databaseUrl: config.databaseUrl ?? undefined, dataDir: config.dataDir, embeddedMemory: config.embeddedMemory, poolSize: Math.min(config.dbPoolSize, 4) });
  try {
    await store.migrate();
    return await run(store);
  } finally {
    await store.close();
  }
}

/** The HTTP context of an admin-API command; a missing key is refused before any request. */
function httpContext(args: ParsedArgs, io: CliIo, keyOption = 'key'): CommandContext {
  const key = args.options.get(keyOption) ?? io.env.VEXIL_KEY;
  if (key === undefined || key === '') throw new UsageError(`no API key: pass --${keyOption} phx_… or set VEXIL_KEY`);
  const client = new AdminClient({ url: args.options.get('url') ?? io.env.VEXIL_URL ?? DEFAULT_URL, key });
  return { args, client, out: io, json: args.switches.has('json') };
}

async function importPersons(args: ParsedArgs, io: CliIo): Promise<number> {
  const [, , file, extra] = args.positional;
  if (file === undefined || extra !== undefined) throw new UsageError('vexil import persons takes exactly one FILE');
  const project = args.options.get('project');
  if (project === undefined || !/^\d{1,15}$/.test(project)) throw new UsageError(`--project must be a project id (an integer), got '${project ?? ''}'`);
  for (const name of [...args.options.keys(), ...args.lists.keys(), ...args.switches]) {
    if (name !== 'project' && name !== 'format') throw new UsageError(`unknown option --${name}`);
  }
  const config = loadConfig(io.env);
  const { importPersonsFile } = await import('./import-persons.ts');
  await withStore(config, (store) => importPersonsFile({ store, projectId: Number(project), file, format: args.options.get('format'), print: io.stdout }));
  return EXIT.ok;
}

async function dispatch(args: ParsedArgs, io: CliIo): Promise<number> {
  const [command, sub] = args.positional;
  if (command === undefined || command === 'help') {
    const topic = command === 'help' ? sub : undefined;
    io.stdout(topic !== undefined && COMMAND_HELP[topic] ? COMMAND_HELP[topic] : USAGE);
    return command === undefined && !args.switches.has('help') ? EXIT.usage : EXIT.ok;
  }
  if (args.switches.has('help')) {
    const text = COMMAND_HELP[command];
    if (text === undefined) throw new UsageError(`unknown command '${command}'`);
    io.stdout(text);
    return EXIT.ok;
  }
  switch (command) {
    case 'serve': {
      allowOnly(args, []);
      loadConfig(io.env);
      // main.ts starts the server when loaded and owns the process from then on.
      await import('../main.ts');
      return EXIT.ok;
    }
    case 'migrate': {
      const config = loadConfig(io.env);
      await withStore(config, async () => undefined);
      io.stdout(`migrations applied (${config.databaseUrl ? 'PostgreSQL' : `embedded database in ${config.dataDir}`})`);
      return EXIT.ok;
    }
    case 'project':
      await projectCommand(httpContext(args, io), sub);
      return EXIT.ok;
    case 'key':
      await keyCommand(httpContext(args, io), sub);
      return EXIT.ok;
    case 'flag':
      await flagCommand(httpContext(args, io), sub);
      return EXIT.ok;
    case 'cohort':
      await cohortCommand(httpContext(args, io), sub);
      return EXIT.ok;
    case 'eval':
      if (args.positional.length > 1) throw new UsageError(`vexil eval takes no positional argument, got '${sub}'`);
      await evalCommand(httpContext(args, io));
      return EXIT.ok;
    case 'export':
      await exportCommand(httpContext(args, io));
      return EXIT.ok;
    case 'import':
      if (sub === 'persons') return importPersons(args, io);
      if (sub === 'posthog') {
        await importPosthogCommand(httpContext(args, io, 'vexil-key'));
        return EXIT.ok;
      }
      if (sub === undefined) throw new UsageError('vexil import needs a FILE (or: persons FILE, posthog)');
      await importCodeCommand(httpContext(args, io), sub);
      return EXIT.ok;
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

/** A message on one line (configuration errors list one problem per line). */
function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ');
}

/** Runs one command; returns the process exit code. Errors are one line on stderr, never a stack. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(parseArgs(argv), io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`vexil: ${err.message} (see 'vexil --help')`);
      return EXIT.usage;
    }
    if (err instanceof CliError) {
      io.stderr(`vexil: ${err.message}`);
      return err.exitCode;
    }
    if (isVexilError(err)) {
      io.stderr(`vexil: ${oneLine(err.message)}`);
      return err.code === 'VXL_CONFIG_INVALID' ? EXIT.config : err.status < 500 ? EXIT.data : EXIT.failure;
    }
    io.stderr(`vexil: ${oneLine(err instanceof Error ? err.message : String(err))}`);
    return EXIT.failure;
  }
}
