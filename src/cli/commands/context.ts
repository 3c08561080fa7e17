/**
 * @module cli/commands/context
 * What every admin-API command gets (parsed arguments, the client, output), and the lookups
 * they share: a project or a flag named by id or by name/key.
 */
import { UsageError, type ParsedArgs } from '../args.ts';
import { CliError, type AdminClient } from '../admin-client.ts';
import type { Out } from '../output.ts';

/** One command invocation. */
export interface CommandContext {
  args: ParsedArgs;
  client: AdminClient;
  out: Out;
  /** `--json`: machine-readable output. */
  json: boolean;
}

/** A project as the admin API returns it (the fields the CLI uses). */
export interface ProjectJson {
  id: number;
  name: string;
  api_token: string;
  timezone: string;
}

/** A flag as the admin API returns it (the fields the CLI uses). */
export interface FlagJson {
  id: number;
  key: string;
  name: string;
  active: boolean;
  deleted: boolean;
  filters: Record<string, any>;
  version: number;
  [field: string]: unknown;
}

function projectRef(ctx: CommandContext, option: string): string {
  const ref = ctx.args.options.get(option);
  if (ref === undefined || ref === '') throw new UsageError(`--${option} is required (a project id or name)`);
  return ref;
}

/** The project named by `--project` (an id or an exact name), with its details (needs project:read). */
export async function projectOf(ctx: CommandContext, option = 'project'): Promise<ProjectJson> {
  return findProject(ctx.client, projectRef(ctx, option));
}

/**
 * Only the id of the project named by `--project`: an id is used as given, so a key scoped to
 * flags alone (no project:read) can still manage flags.
 */
export async function projectIdOf(ctx: CommandContext, option = 'project'): Promise<{ id: number }> {
  const ref = projectRef(ctx, option);
  return /^\d{1,15}$/.test(ref) ? { id: Number(ref) } : findProject(ctx.client, ref);
}

/** A project by id or exact name. */
export async function findProject(client: AdminClient, ref: string): Promise<ProjectJson> {
  if (/^\d{1,15}$/.test(ref)) return client.get(`/api/projects/${ref}/`);
  const matches = (await client.list<ProjectJson>('/api/projects/')).filter((p) => p.name === ref);
  if (matches.length === 0) throw new CliError(`no project named '${ref}'`);
  if (matches.length > 1) throw new CliError(`${matches.length} projects are named '${ref}': use the id (${matches.map((p) => p.id).join(', ')})`);
  return matches[0]!;
}

/** A (not deleted) flag by id or exact key. */
export async function findFlag(client: AdminClient, projectId: number, ref: string): Promise<FlagJson> {
  if (/^\d{1,15}$/.test(ref)) return client.get(`/api/projects/${projectId}/feature_flags/${ref}/`);
  const hits = await client.list<FlagJson>(`/api/projects/${projectId}/feature_flags/?search=${encodeURIComponent(ref)}&limit=1000`);
  const flag = hits.find((f) => f.key === ref && !f.deleted);
  if (!flag) throw new CliError(`no flag '${ref}' in project ${projectId}`);
  return flag;
}

/** The single positional argument at `index`, or a UsageError saying what is missing. */
export function positional(ctx: CommandContext, index: number, what: string): string {
  const v = ctx.args.positional[index];
  if (v === undefined) throw new UsageError(`missing ${what}`);
  return v;
}
