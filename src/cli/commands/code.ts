/**
 * @module cli/commands/code
 * `vexil export --project P` and `vexil import FILE --project P [--dry-run] [--prune]`: flags as
 * code over the admin API.
 */
import { readFile } from 'node:fs/promises';
import { allowOnly, UsageError } from '../args.ts';
import { CliError } from '../admin-client.ts';
import { printJson } from '../output.ts';
import { toCodeFile, type ApiObject } from '../flags-as-code/code-model.ts';
import { parseCode, stringifyCode } from '../flags-as-code/code-parse.ts';
import { planImport } from '../flags-as-code/code-plan.ts';
import { applyPlan, printPlan } from '../flags-as-code/code-apply.ts';
import { projectIdOf, type CommandContext } from './context.ts';

/** Every live flag and cohort of a project. */
async function liveState(ctx: CommandContext, projectId: number): Promise<{ flags: ApiObject[]; cohorts: ApiObject[] }> {
  const [flags, cohorts] = await Promise.all([
    ctx.client.list<ApiObject>(`/api/projects/${projectId}/feature_flags/?limit=1000`),
    ctx.client.list<ApiObject>(`/api/projects/${projectId}/cohorts/?limit=1000`),
  ]);
  return { flags: flags.filter((f) => !f.deleted), cohorts: cohorts.filter((c) => !c.deleted) };
}

/** `vexil export`. Refuses a project where two live cohorts share a name (the file names cohorts). */
export async function exportCommand(ctx: CommandContext): Promise<void> {
  allowOnly(ctx.args, ['project']);
  if (ctx.args.positional.length > 1) throw new UsageError(`vexil export takes no positional argument, got '${ctx.args.positional[1]}'`);
  const project = await projectIdOf(ctx);
  const { flags, cohorts } = await liveState(ctx, project.id);
  const names = new Set<string>();
  for (const c of cohorts) {
    if (names.has(c.name)) throw new CliError(`two cohorts of project ${project.id} are named '${c.name}': rename one, the file refers to cohorts by name`);
    names.add(c.name);
  }
  const file = toCodeFile(flags, cohorts);
  if (ctx.json) return printJson(ctx.out, file);
  ctx.out.stdout(stringifyCode(file, `Vexil flags and cohorts. Apply with: vexil import FILE --project P [--dry-run] [--prune]`).trimEnd());
}

/** `vexil import FILE`: parse and validate, plan, print, then apply unless --dry-run. */
export async function importCodeCommand(ctx: CommandContext, path: string): Promise<void> {
  allowOnly(ctx.args, ['project', 'dry-run', 'prune']);
  if (ctx.args.positional.length > 2) throw new UsageError('vexil import takes exactly one FILE');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new CliError(`cannot read ${path}`, 65);
  }
  const parsed = parseCode(text, path);
  const project = await projectIdOf(ctx);
  const { flags, cohorts } = await liveState(ctx, project.id);
  const plan = planImport(parsed, flags, cohorts, ctx.args.switches.has('prune'));
  const dryRun = ctx.args.switches.has('dry-run');
  if (ctx.json) printJson(ctx.out, { dryRun, plan: plan.map(({ kind, action, name, changes }) => ({ kind, action, name, changes })) });
  else printPlan(ctx.out, plan);
  if (dryRun) {
    if (!ctx.json) ctx.out.stdout('Dry run: nothing was written.');
    return;
  }
  if (plan.every((i) => i.action === 'unchanged')) {
    if (!ctx.json) ctx.out.stdout('Nothing to do.');
    return;
  }
  await applyPlan(
    ctx.client,
    project.id,
    plan,
    new Map(cohorts.map((c) => [c.name as string, c.id as number])),
    new Map(flags.map((f) => [f.key as string, f.id as number])),
  );
  if (!ctx.json) ctx.out.stdout(`Applied to project ${project.id}.`);
}
