/**
 * @module cli/help
 * The `--help` text of `vexil` and of each command.
 */

const CONNECTION = `Connection (commands that talk to a running Vexil):
  --url URL     base URL of the server (default $VEXIL_URL, else http://127.0.0.1:8000)
  --key KEY     personal API key phx_… (default $VEXIL_KEY)
  --json        print JSON instead of tables`;

/** `vexil --help`. */
export const USAGE = `Usage: vexil <command> [options]

Server and database (read DATABASE_URL / VEXIL_DATA_DIR like the server):
  serve                                 start the server (same as npm start)
  migrate                               apply database migrations, then exit
  import persons FILE --project ID      import persons from JSON lines, a JSON array or CSV
         [--format csv|jsonl|json]      (FILE may be .gz; CSV needs a distinct_id column)

Admin API of a running Vexil:
  project list|create                   projects
  key list|create|revoke                personal API keys
  flag list|get|create|enable|disable|rollout|delete
  cohort list|get
  eval --project P --distinct-id ID [--prop k=v]… [--group type=key]…
                                        every flag's answer, variant and reason for one user
  export --project P                    a project's flags and cohorts as YAML on stdout
  import FILE --project P [--dry-run] [--prune]
                                        apply a YAML file made by export
  import posthog --host URL --key phx_… --project-id N [--to-project P]
                                        copy flags and cohorts from PostHog

  help, --help, -h                      this text; 'vexil COMMAND --help' for one command

${CONNECTION}

Exit codes: 0 ok, 1 failure, 64 usage error, 65 invalid input, 78 bad configuration.`;

/** Per-command help, by the first word. */
export const COMMAND_HELP: Readonly<Record<string, string>> = {
  serve: `Usage: vexil serve

Starts the server with the configuration from the environment (VEXIL_PORT, DATABASE_URL, …;
see README "Configuration"). Stops on SIGTERM/SIGINT after draining requests.`,
  migrate: `Usage: vexil migrate

Applies the database migrations (DATABASE_URL, else the embedded database in VEXIL_DATA_DIR).`,
  project: `Usage:
  vexil project list                         every project the key can see
  vexil project create NAME [--timezone TZ]  prints the project token and the secret key (once)

${CONNECTION}`,
  key: `Usage:
  vexil key list
  vexil key create LABEL [--scope SCOPE]… [--project-scope ID]…
                     scopes default to '*'; e.g. --scope feature_flag:read --scope cohort:read;
                     --project-scope limits the key to projects; the key is printed once
  vexil key revoke ID

${CONNECTION}`,
  flag: `Usage (P is a project id or name; KEY a flag key or id):
  vexil flag list --project P [--search TEXT]
  vexil flag get KEY --project P
  vexil flag create KEY --project P [--name NAME] [--rollout PCT | --filters JSON|@file.json] [--inactive]
  vexil flag enable KEY --project P
  vexil flag disable KEY --project P
  vexil flag rollout KEY PCT --project P     sets PCT on every release condition
  vexil flag delete KEY --project P          PostHog's soft delete (deleted: true)

${CONNECTION}`,
  cohort: `Usage:
  vexil cohort list --project P
  vexil cohort get ID|NAME --project P

${CONNECTION}`,
  eval: `Usage: vexil eval --project P --distinct-id ID [--prop NAME=VALUE]… [--group TYPE=KEY]… [--flag KEY]

Asks /flags?v=2 with the project's token, as an SDK does, and prints each flag's value, reason
and the reason's description (which condition matched, or why none did). Stored person
properties and cohorts count; --prop values override them and are sent as strings.

${CONNECTION}`,
  export: `Usage: vexil export --project P [> flags.yaml]

Writes the project's flags and cohorts as YAML: keys in a fixed order, cohort ids replaced by
names and flag ids by keys, so the file can be applied to another project or server.

${CONNECTION}`,
  import: `Usage:
  vexil import FILE --project P [--dry-run] [--prune]
      applies a YAML file written by 'vexil export': creates missing flags and cohorts,
      changes those that differ (printing a field diff), leaves the rest; --prune deletes
      flags and cohorts the file does not list; --dry-run prints the plan and writes nothing.
      An invalid file is refused before anything is written.
  vexil import posthog --host URL --key phx_… --project-id N [--to-project P] [--dry-run]
      copies a PostHog project's flags and cohorts (static cohorts with their members)
      through PostHog's API into the Vexil project P, or a new project named like the source.
      Here --key is the PostHog personal API key (feature_flag:read, cohort:read, person:read);
      Vexil's key comes from --vexil-key or VEXIL_KEY, its URL from --url or VEXIL_URL.
  vexil import persons FILE --project ID [--format csv|jsonl|json]
      imports persons straight into the database (DATABASE_URL / VEXIL_DATA_DIR).

${CONNECTION}`,
};
