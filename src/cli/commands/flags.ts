/**
 * @module cli/commands/flags
 * `vexil flag list|get|create|enable|disable|rollout|delete` over the admin API. Deleting is
 * PostHog's soft delete (`deleted: true`); the API has no hard delete.
 */
import { readFile } from 'node:fs/promises';
import { allowOnly, UsageError } from '../args.ts';
import { CliError } from '../admin-client.ts';
import { printFields, printJson, printTable } from '../output.ts';
import { findFlag, positional, projectIdOf, type CommandContext, type FlagJson } from './context.ts';

/** A one-cell summary of a flag's release conditions: "100%", "2 conditions", "control/test". */
export function describeRollout(flag: FlagJson): string {
  const groups = (flag.filters?.groups ?? []) as { properties?: unknown[]; rollout_percentage?: number | null }[];
  const variants = (flag.filters?.multivariate?.variants ?? []) as { key: string }[];
  const parts: string[] = [];
  if (groups.length === 1 && (groups[0]!.properties ?? []).length === 0) parts.push(`${groups[0]!.rollout_percentage ?? 100}%`);
  else parts.push(`${groups.length} condition${groups.length === 1 ? '' : 's'}`);
  if (variants.length > 0) parts.push(variants.map((v) => v.key).join('/'));
  return parts.join(', ');
}

function percentage(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0 || n > 100) throw new UsageError(`the rollout must be a percentage 0–100, got '${text}'`);
  return n;
}

/** `--filters JSON` or `--filters @file.json`. */
async function filtersOption(text: string): Promise<unknown> {
  let raw = text;
  if (text.startsWith('@')) {
    try {
      raw = await readFile(text.slice(1), 'utf8');
    } catch {
      throw new CliError(`cannot read ${text.slice(1)}`, 65);
    }
  }
  try {
    return JSON.parse(raw);
  } catch {
    throw new CliError('--filters is not valid JSON', 65);
  }
}

function printFlag(ctx: CommandContext, flag: FlagJson): void {
  if (ctx.json) return printJson(ctx.out, flag);
  printFields(ctx.out, [
    ['id', flag.id],
    ['key', flag.key],
    ['name', flag.name],
    ['active', flag.active],
    ['rollout', describeRollout(flag)],
    ['version', flag.version],
    ['tags', ((flag.tags as string[] | undefined) ?? []).join(', ')],
  ]);
  ctx.out.stdout(`filters: ${JSON.stringify(flag.filters, null, 2)}`);
}

/** `vexil flag …`. */
export async function flagCommand(ctx: CommandContext, sub: string | undefined): Promise<void> {
  const { client, out } = ctx;
  const patch = async (body: Record<string, unknown>, done: string) => {
    allowOnly(ctx.args, ['project']);
    const project = await projectIdOf(ctx);
    const flag = await findFlag(client, project.id, positional(ctx, 2, 'KEY (a flag key or id)'));
    const updated = await client.request('PATCH', `/api/projects/${project.id}/feature_flags/${flag.id}/`, body);
    if (ctx.json) return printJson(out, updated);
    out.stdout(`${flag.key}: ${done}`);
  };
  switch (sub) {
    case 'list': {
      allowOnly(ctx.args, ['project', 'search']);
      const project = await projectIdOf(ctx);
      const search = ctx.args.options.get('search');
      const flags = await client.list<FlagJson>(`/api/projects/${project.id}/feature_flags/?limit=1000${search ? `&search=${encodeURIComponent(search)}` : ''}`);
      if (ctx.json) return printJson(out, flags);
      return printTable(out, flags, [['ID', (f) => f.id], ['KEY', (f) => f.key], ['ACTIVE', (f) => (f.active ? 'yes' : 'no')], ['ROLLOUT', describeRollout], ['NAME', (f) => f.name]]);
    }
    case 'get': {
      allowOnly(ctx.args, ['project']);
      const project = await projectIdOf(ctx);
      return printFlag(ctx, await findFlag(client, project.id, positional(ctx, 2, 'KEY (a flag key or id)')));
    }
    case 'create': {
      allowOnly(ctx.args, ['project', 'name', 'rollout', 'filters', 'inactive']);
      const project = await projectIdOf(ctx);
      const key = positional(ctx, 2, 'KEY: vexil flag create KEY --project P');
      const filtersText = ctx.args.options.get('filters');
      const rolloutText = ctx.args.options.get('rollout');
      if (filtersText !== undefined && rolloutText !== undefined) throw new UsageError('give --rollout or --filters, not both');
      const filters = filtersText !== undefined ? await filtersOption(filtersText) : { groups: [{ properties: [], rollout_percentage: rolloutText === undefined ? 100 : percentage(rolloutText) }] };
      const flag = await client.request('POST', `/api/projects/${project.id}/feature_flags/`, {
        key,
        name: ctx.args.options.get('name') ?? '',
        active: !ctx.args.switches.has('inactive'),
        filters,
      });
      if (ctx.json) return printJson(out, flag);
      out.stdout(`created flag ${flag.key} (id ${flag.id}) in project ${project.id}`);
      return;
    }
    case 'enable':
      return patch({ active: true }, 'enabled');
    case 'disable':
      return patch({ active: false }, 'disabled');
    case 'delete':
      return patch({ deleted: true }, 'deleted');
    case 'rollout': {
      allowOnly(ctx.args, ['project']);
      const project = await projectIdOf(ctx);
      const flag = await findFlag(client, project.id, positional(ctx, 2, 'KEY: vexil flag rollout KEY PERCENT --project P'));
      const pct = percentage(positional(ctx, 3, 'PERCENT: vexil flag rollout KEY PERCENT --project P'));
      const groups = ((flag.filters?.groups ?? []) as Record<string, unknown>[]).map((g) => ({ ...g, rollout_percentage: pct }));
      // Every release condition gets the percentage; a flag without one gets a plain rollout.
      const filters = { ...flag.filters, groups: groups.length > 0 ? groups : [{ properties: [], rollout_percentage: pct }] };
      const updated = await client.request('PATCH', `/api/projects/${project.id}/feature_flags/${flag.id}/`, { filters, version: flag.version });
      if (ctx.json) return printJson(out, updated);
      out.stdout(`${flag.key}: rolled out to ${pct}% (${groups.length || 1} condition${groups.length > 1 ? 's' : ''})`);
      return;
    }
    default:
      throw new UsageError(`unknown flag command '${sub ?? ''}' (list, get, create, enable, disable, rollout, delete)`);
  }
}
