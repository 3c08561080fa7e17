/**
 * @module cli/run
 * The `vexil` command: argument parsing and dispatch. `runCli` never exits the process; it
 * returns the exit code, so tests can drive it with their own environment and output.
 */
import { loadConfig, type Config } from '../config.ts';
import { isVexilError } from '../errors.ts';
import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import { importPersonsFile } from './import-persons.ts';

/** Exit codes (sysexits.h): usage error, bad input data, bad configuration. */
export const EXIT = { ok: 0, failure: 1, usage: 64, data: 65, config: 78 } as const;

export const USAGE = `Usage: vexil <command>

Commands:
  serve                                 start the server (same as npm start)
  migrate                               apply database migrations, then exit
  import persons FILE --project ID      import persons from JSON lines, a JSON array or CSV
         [--format csv|jsonl|json]      (FILE may be .gz; CSV needs a distinct_id column)
  help                                  show this text

The database comes from the environment: DATABASE_URL (PostgreSQL) or else the embedded
database in VEXIL_DATA_DIR (default ./data).`;

export interface CliIo {
  env: Readonly<Record<string, string | undefined>>;
  stdout(line: string): void;
  stderr(line: string): void;
}

class UsageError extends Error {}

/** `--name value` and `--name=value` options, and the positional arguments. */
function parseArgs(args: readonly string[]): { positional: string[]; options: Map<string, string> } {
  const positional: string[] = [];
  const options = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    if (eq !== -1) options.set(a.slice(2, eq), a.slice(eq + 1));
    else {
      const value = args[i + 1];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`${a} needs a value`);
      options.set(a.slice(2), value);
      i++;
    }
  }
  return { positional, options };
}

async function withStore<T>(config: Config, run: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore({ databaseUrl: config.databaseUrl ?? undefined, dataDir: config.dataDir, embeddedMemory: config.embeddedMemory, poolSize: Math.min(config.dbPoolSize, 4) });
  try {
    await store.migrate();
    return await run(store);
  } finally {
    await store.close();
  }
}

/** Runs one command; returns the process exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let config: Config;
  try {
    const { positional, options } = parseArgs(argv);
    const [command, ...rest] = positional;
    if (command === undefined || command === 'help' || options.has('help')) {
      io.stdout(USAGE);
      return command === undefined ? EXIT.usage : EXIT.ok;
    }
    config = loadConfig(io.env);
    switch (command) {
      case 'serve':
        // main.ts starts the server when loaded and owns the process from then on.
        await import('../main.ts');
        return EXIT.ok;
      case 'migrate':
        await withStore(config, async () => undefined);
        io.stdout(`migrations applied (${config.databaseUrl ? 'PostgreSQL' : `embedded database in ${config.dataDir}`})`);
        return EXIT.ok;
      case 'import': {
        const [what, file, extra] = rest;
        if (what !== 'persons') throw new UsageError(`unknown import kind '${what ?? ''}': only 'vexil import persons FILE --project ID' exists`);
        if (file === undefined || extra !== undefined) throw new UsageError('vexil import persons takes exactly one FILE');
        const project = options.get('project');
        if (project === undefined || !/^\d{1,15}$/.test(project)) throw new UsageError(`--project must be a project id (an integer), got '${project ?? ''}'`);
        for (const name of options.keys()) if (name !== 'project' && name !== 'format') throw new UsageError(`unknown option --${name}`);
        await withStore(config, (store) =>
          importPersonsFile({ store, projectId: Number(project), file, format: options.get('format'), print: io.stdout }),
        );
        return EXIT.ok;
      }
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`vexil: ${err.message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    if (isVexilError(err)) {
      io.stderr(`vexil: ${err.message}`);
      return err.code === 'VXL_CONFIG_INVALID' ? EXIT.config : err.status < 500 ? EXIT.data : EXIT.failure;
    }
    io.stderr(`vexil: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.failure;
  }
}
