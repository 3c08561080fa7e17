/**
 * @module cli/commands/posthog
 * `vexil import posthog --host URL --key phx_… --project-id N [--to-project P] [--dry-run]`:
 * copies a PostHog project's flags and cohorts into Vexil through both public APIs. The source
 * is read into the flags-as-code form (ids → names and keys), then planned and applied like
 * `vexil import FILE`, so ids are remapped, dependencies come first and a second run changes
 * nothing; static cohorts then get their members (by distinct id).
 */
import { allowOnly, required, UsageError } from '../args.ts';
import { AdminClient, CliError } from '../admin-client.ts';
import { toCodeFile, type ApiObject } from '../flags-as-code/code-model.ts';
import { planImport } from '../flags-as-code/code-plan.ts';
import { applyPlan, printPlan } from '../flags-as-code/code-apply.ts';
import { findProject, type CommandContext } from './context.ts';

/** Most distinct ids per membership request (Vexil's MAX_MEMBERS_PER_REQUEST). */
const MEMBER_BATCH = 1000;

/** Reads the source project's live flags and cohorts; flags Vexil cannot hold are reported and left out. */
async function readSource(source: AdminClient, projectId: string, warn: (line: string) => void): Promise<{ flags: ApiObject[]; cohorts: ApiObject[] }> {
  const base = `/api/projects/${projectId}`;
  const [flags, cohorts] = await Promise.all([source.list<ApiObject>(`${base}/feature_flags/?limit=1000`), source.list<ApiObject>(`${base}/cohorts/?limit=1000`)]);
  const kept = flags.filter((f) => {
    if (f.deleted) return false;
    if (f.is_remote_configuration || f.has_encrypted_payloads) {
      warn(`skipped flag ${f.key}: remote-configuration and encrypted-payload flags are not supported`);
      return false;
    }
    return true;
  });
  const names = new Set<string>();
  for (const c of cohorts.filter((c) => !c.deleted)) {
    if (names.has(c.name)) throw new CliError(`two source cohorts are named '${c.name}': rename one in PostHog first (cohorts are matched by name)`);
    names.add(c.name);
  }
  return { flags: kept, cohorts: cohorts.filter((c) => !c.deleted) };
}

/** Distinct ids of a static source cohort's members, page by page (PostHog's `cohorts/:id/persons/`). */
async function sourceMembers(source: AdminClient, projectId: string, cohortId: number): Promise<string[]> {
  const persons = await source.list<{ distinct_ids?: string[] }>(`/api/projects/${projectId}/cohorts/${cohortId}/persons/?limit=1000`);
  return [...new Set(persons.flatMap((p) => p.distinct_ids ?? []))];
}

/** `vexil import posthog`. */
export async function importPosthogCommand(ctx: CommandContext): Promise<void> {
  allowOnly(ctx.args, ['host', 'vexil-key', 'project-id', 'to-project', 'dry-run']);
  const host = required(ctx.args, 'host', 'the PostHog URL, e.g. https://us.posthog.com');
  const projectId = required(ctx.args, 'project-id', 'the PostHog project id');
  if (!/^\d{1,15}$/.test(projectId)) throw new UsageError(`--project-id must be an integer, got '${projectId}'`);
  // Here --key is PostHog's key; Vexil's comes from --vexil-key or VEXIL_KEY.
  const sourceKey = ctx.args.options.get('key');
  if (sourceKey === undefined || sourceKey === '') throw new UsageError('--key is required (a PostHog personal API key with feature_flag:read, cohort:read and person:read)');
  const source = new AdminClient({ url: host, key: sourceKey });
  const dryRun = ctx.args.switches.has('dry-run');

  const { flags, cohorts } = await readSource(source, projectId, ctx.out.stderr);
  const target = ctx.args.options.get('to-project');
  let targetId: number;
  let liveFlags: ApiObject[] = [];
  let liveCohorts: ApiObject[] = [];
  if (target !== undefined) {
    targetId = (await findProject(ctx.client, target)).id;
    liveFlags = (await ctx.client.list<ApiObject>(`/api/projects/${targetId}/feature_flags/?limit=1000`)).filter((f) => !f.deleted);
    liveCohorts = (await ctx.client.list<ApiObject>(`/api/projects/${targetId}/cohorts/?limit=1000`)).filter((c) => !c.deleted);
  } else if (dryRun) {
    targetId = 0;
  } else {
    const name = ((await source.get(`/api/projects/${projectId}/`)) as { name?: string }).name ?? `PostHog project ${projectId}`;
    const created = await ctx.client.request('POST', '/api/projects/', { name });
    targetId = created.id;
    ctx.out.stdout(`created project ${created.id} '${created.name}' (token ${created.api_token})`);
  }

  const file = toCodeFile(flags, cohorts);
  const plan = planImport({ file, where: (path) => `source ${path.join('.')}` }, liveFlags, liveCohorts, false);
  printPlan(ctx.out, plan);
  if (dryRun) {
    ctx.out.stdout('Dry run: nothing was written.');
    return;
  }
  const cohortIds = new Map(liveCohorts.map((c) => [c.name as string, c.id as number]));
  await applyPlan(ctx.client, targetId, plan, cohortIds, new Map(liveFlags.map((f) => [f.key as string, f.id as number])));

  for (const c of cohorts.filter((c) => c.is_static)) {
    const ids = await sourceMembers(source, projectId, c.id);
    for (let i = 0; i < ids.length; i += MEMBER_BATCH) {
      await ctx.client.request('PATCH', `/api/projects/${targetId}/cohorts/${cohortIds.get(c.name)}/add_persons_to_static_cohort/`, { distinct_ids: ids.slice(i, i + MEMBER_BATCH) });
    }
    ctx.out.stdout(`cohort ${c.name}: ${ids.length} member distinct id${ids.length === 1 ? '' : 's'} copied`);
  }
  ctx.out.stdout(`Imported into project ${targetId}.`);
}
