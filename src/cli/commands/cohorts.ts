/**
 * @module cli/commands/cohorts
 * `vexil cohort list|get` over the admin API.
 */
import { allowOnly, UsageError } from '../args.ts';
import { CliError } from '../admin-client.ts';
import { printFields, printJson, printTable } from '../output.ts';
import { positional, projectIdOf, type CommandContext } from './context.ts';

/** `vexil cohort …`. */
export async function cohortCommand(ctx: CommandContext, sub: string | undefined): Promise<void> {
  const { client, out } = ctx;
  switch (sub) {
    case 'list': {
      allowOnly(ctx.args, ['project']);
      const project = await projectIdOf(ctx);
      const cohorts = await client.list<Record<string, any>>(`/api/projects/${project.id}/cohorts/?limit=1000`);
      if (ctx.json) return printJson(out, cohorts);
      return printTable(out, cohorts, [['ID', (c) => c.id], ['NAME', (c) => c.name], ['TYPE', (c) => c.cohort_type], ['VERSION', (c) => c.version]]);
    }
    case 'get': {
      allowOnly(ctx.args, ['project']);
      const project = await projectIdOf(ctx);
      const ref = positional(ctx, 2, 'ID or NAME: vexil cohort get ID --project P');
      let cohort: Record<string, any> | undefined;
      if (/^\d{1,15}$/.test(ref)) cohort = await client.get(`/api/projects/${project.id}/cohorts/${ref}/`);
      else cohort = (await client.list<Record<string, any>>(`/api/projects/${project.id}/cohorts/?limit=1000`)).find((c) => c.name === ref && !c.deleted);
      if (!cohort) throw new CliError(`no cohort '${ref}' in project ${project.id}`);
      if (ctx.json) return printJson(out, cohort);
      printFields(out, [['id', cohort.id], ['name', cohort.name], ['type', cohort.cohort_type], ['description', cohort.description], ['version', cohort.version]]);
      out.stdout(`filters: ${JSON.stringify(cohort.filters, null, 2)}`);
      return;
    }
    default:
      throw new UsageError(`unknown cohort command '${sub ?? ''}' (list, get)`);
  }
}
