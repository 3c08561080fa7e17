/**
 * @module cli/commands/projects
 * `vexil project list|create` and `vexil key list|create|revoke` over the admin API.
 */
import { allowOnly, UsageError } from '../args.ts';
import { printFields, printJson, printTable } from '../output.ts';
import { positional, type CommandContext, type ProjectJson } from './context.ts';

/** `vexil project …`; `sub` is the word after `project`. */
export async function projectCommand(ctx: CommandContext, sub: string | undefined): Promise<void> {
  const { client, out } = ctx;
  switch (sub) {
    case 'list': {
      allowOnly(ctx.args, []);
      const projects = await client.list<ProjectJson>('/api/projects/');
      if (ctx.json) return printJson(out, projects);
      return printTable(out, projects, [['ID', (p) => p.id], ['NAME', (p) => p.name], ['TOKEN', (p) => p.api_token], ['TIMEZONE', (p) => p.timezone]]);
    }
    case 'create': {
      allowOnly(ctx.args, ['timezone']);
      const name = positional(ctx, 2, 'NAME: vexil project create NAME');
      const tz = ctx.args.options.get('timezone');
      const p = await client.request('POST', '/api/projects/', { name, ...(tz === undefined ? {} : { timezone: tz }) });
      if (ctx.json) return printJson(out, p);
      printFields(out, [['id', p.id], ['name', p.name], ['project token', p.api_token], ['secret key', p.secret_api_token]]);
      out.stdout('The secret key is shown only once.');
      return;
    }
    default:
      throw new UsageError(`unknown project command '${sub ?? ''}' (list, create)`);
  }
}

/** `vexil key …`: personal API keys. */
export async function keyCommand(ctx: CommandContext, sub: string | undefined): Promise<void> {
  const { client, out } = ctx;
  switch (sub) {
    case 'list': {
      allowOnly(ctx.args, []);
      const keys = await client.list<Record<string, any>>('/api/personal_api_keys/');
      if (ctx.json) return printJson(out, keys);
      return printTable(out, keys, [
        ['ID', (k) => k.id],
        ['LABEL', (k) => k.label],
        ['KEY', (k) => k.mask_value],
        ['SCOPES', (k) => (k.scopes as string[]).join(',')],
        ['PROJECTS', (k) => (k.scoped_teams === null ? 'all' : (k.scoped_teams as number[]).join(','))],
        ['LAST USED', (k) => k.last_used_at ?? 'never'],
      ]);
    }
    case 'create': {
      allowOnly(ctx.args, ['scope', 'project-scope']);
      const label = positional(ctx, 2, 'LABEL: vexil key create LABEL [--scope S]… [--project-scope ID]…');
      const scopes = ctx.args.lists.get('scope') ?? ['*'];
      const projects = ctx.args.lists.get('project-scope');
      for (const id of projects ?? []) if (!/^\d{1,15}$/.test(id)) throw new UsageError(`--project-scope takes a project id, got '${id}'`);
      const k = await client.request('POST', '/api/personal_api_keys/', { label, scopes, scoped_teams: projects ? projects.map(Number) : null });
      if (ctx.json) return printJson(out, k);
      printFields(out, [['id', k.id], ['label', k.label], ['key', k.value], ['scopes', (k.scopes as string[]).join(',')]]);
      out.stdout('The key is shown only once.');
      return;
    }
    case 'revoke': {
      allowOnly(ctx.args, []);
      const id = positional(ctx, 2, 'ID: vexil key revoke ID');
      if (!/^[\w-]{1,64}$/.test(id) && id !== '@current') throw new UsageError(`vexil key revoke takes a key id, got '${id}'`);
      await client.request('DELETE', `/api/personal_api_keys/${id}/`);
      if (ctx.json) return printJson(out, { revoked: id });
      out.stdout(`key ${id} revoked`);
      return;
    }
    default:
      throw new UsageError(`unknown key command '${sub ?? ''}' (list, create, revoke)`);
  }
}
