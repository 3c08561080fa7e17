/**
 * @module cli/commands/eval
 * `vexil eval --project P --distinct-id ID [--prop k=v]… [--group type=key]…`: asks `/flags?v=2`
 * with the project's token, as an SDK would, and prints each flag's answer with its reason.
 */
import { allowOnly, pairs, required } from '../args.ts';
import { printJson, printTable } from '../output.ts';
import { projectOf, type CommandContext } from './context.ts';

interface FlagAnswer {
  key: string;
  enabled: boolean;
  variant: string | null;
  reason: { code: string; condition_index: number | null; description: string };
  metadata: { payload: unknown };
  failed?: boolean;
}

/** `vexil eval`. Property values are sent as strings, as `--prop` cannot tell types apart. */
export async function evalCommand(ctx: CommandContext): Promise<void> {
  allowOnly(ctx.args, ['project', 'distinct-id', 'prop', 'group', 'flag']);
  const project = await projectOf(ctx);
  const distinctId = required(ctx.args, 'distinct-id', 'the user to evaluate for');
  const flag = ctx.args.options.get('flag');
  const body = {
    token: project.api_token,
    distinct_id: distinctId,
    person_properties: pairs(ctx.args, 'prop'),
    groups: pairs(ctx.args, 'group'),
    ...(flag === undefined ? {} : { flag_keys_to_evaluate: [flag] }),
  };
  const res = await ctx.client.request('POST', '/flags?v=2', body, { authorization: '' });
  const flags = Object.values((res?.flags ?? {}) as Record<string, FlagAnswer>);
  if (ctx.json) return printJson(ctx.out, res);
  printTable(ctx.out, flags, [
    ['FLAG', (f) => f.key],
    ['VALUE', (f) => (f.failed ? 'error' : f.enabled && f.variant !== null ? f.variant : f.enabled)],
    ['REASON', (f) => f.reason.code + (f.reason.condition_index === null ? '' : ` #${f.reason.condition_index}`)],
    ['WHY', (f) => f.reason.description],
  ]);
  if (res?.errorsWhileComputingFlags) ctx.out.stderr('vexil: some flags could not be evaluated (errorsWhileComputingFlags)');
}
