/**
 * @module store/sql-store-projects
 * Projects, their secret-token hashes and personal API keys.
 */
import type { PersonalApiKeyRow, ProjectRow } from './store.ts';
import { isUuid, withTransaction, type SqlClient, type SqlDriver } from './sql-client.ts';
import { KEY_COLUMNS, PROJECT_COLUMNS, toPersonalApiKey, toProject } from './sql-rows.ts';

/** Inserts a project; its revision starts at 1. */
export async function createProject(
  db: SqlClient,
  input: { name: string; apiToken: string; secretTokenHash: string; timezone?: string },
): Promise<ProjectRow> {
  const [row] = await db.query(
    `INSERT INTO projects (name, api_token, secret_token_hash, timezone)
     VALUES ($1, $2, $3, $4) RETURNING ${PROJECT_COLUMNS}`,
    [input.name, input.apiToken, input.secretTokenHash, input.timezone ?? 'UTC'],
  );
  return toProject(row);
}

export async function listProjects(db: SqlClient): Promise<ProjectRow[]> {
  return (await db.query(`SELECT ${PROJECT_COLUMNS} FROM projects ORDER BY id`)).map(toProject);
}

export async function updateProject(db: SqlClient, id: number, patch: { name?: string; timezone?: string }): Promise<ProjectRow | null> {
  if (!Number.isSafeInteger(id) || id <= 0 || id > 2 ** 31 - 1) return null;
  // The time zone changes how date filters evaluate: the revision bump rebuilds snapshots.
  const [row] = await db.query(
    `UPDATE projects SET name = COALESCE($2, name), timezone = COALESCE($3, timezone), revision = revision + 1
     WHERE id = $1 RETURNING ${PROJECT_COLUMNS}`,
    [id, patch.name ?? null, patch.timezone ?? null],
  );
  return row ? toProject(row) : null;
}

export async function getProject(db: SqlClient, id: number): Promise<ProjectRow | null> {
  if (!Number.isSafeInteger(id) || id <= 0 || id > 2 ** 31 - 1) return null;
  const [row] = await db.query(`SELECT ${PROJECT_COLUMNS} FROM projects WHERE id = $1`, [id]);
  return row ? toProject(row) : null;
}

export async function deleteProject(db: SqlDriver, id: number): Promise<boolean> {
  if (!Number.isSafeInteger(id) || id <= 0 || id > 2 ** 31 - 1) return false;
  return withTransaction(db, async (tx) => {
    // Persons carry no foreign key to their project (the hot lookup tables stay lean); their
    // distinct ids, memberships and overrides go with them. Everything else cascades from the project.
    await tx.query('DELETE FROM persons WHERE project_id = $1', [id]);
    const rows = await tx.query('DELETE FROM projects WHERE id = $1 RETURNING id', [id]);
    return rows.length > 0;
  });
}

export async function getProjectByApiToken(db: SqlClient, apiToken: string): Promise<ProjectRow | null> {
  const [row] = await db.query(`SELECT ${PROJECT_COLUMNS} FROM projects WHERE api_token = $1`, [apiToken]);
  return row ? toProject(row) : null;
}

/** Primary then backup hash, without nulls. */
export async function getProjectSecretHashes(db: SqlClient, projectId: number): Promise<string[]> {
  const [row] = await db.query<{ p: string | null; b: string | null }>(
    'SELECT secret_token_hash AS p, secret_token_backup_hash AS b FROM projects WHERE id = $1',
    [projectId],
  );
  return row ? [row.p, row.b].filter((h): h is string => typeof h === 'string') : [];
}

/**
 * Rotates the secret: the new hash becomes primary and the old primary the backup, as PostHog's
 * `rotate_secret_token` does, so SDKs holding the old key keep working until it is dropped.
 */
export async function setProjectSecretHash(db: SqlClient, projectId: number, hash: string): Promise<void> {
  await db.query(
    `UPDATE projects SET secret_token_backup_hash = secret_token_hash, secret_token_hash = $2 WHERE id = $1`,
    [projectId, hash],
  );
}

export async function createPersonalApiKey(
  db: SqlClient,
  input: { label: string; keyHash: string; scopes: string[]; scopedProjects: number[] | null; maskValue?: string | null },
): Promise<PersonalApiKeyRow> {
  const [row] = await db.query(
    `INSERT INTO personal_api_keys (label, key_hash, scopes, scoped_projects, mask_value)
     VALUES ($1, $2, $3::text[], $4::int[], $5) RETURNING ${KEY_COLUMNS}`,
    [input.label, input.keyHash, input.scopes, input.scopedProjects, input.maskValue ?? null],
  );
  return toPersonalApiKey(row);
}

/** Insert-if-absent by hash; concurrent callers both get the one row. */
export async function ensurePersonalApiKey(
  db: SqlClient,
  input: { label: string; keyHash: string; scopes: string[]; maskValue?: string | null },
): Promise<PersonalApiKeyRow> {
  await db.query(
    `INSERT INTO personal_api_keys (label, key_hash, scopes, mask_value) VALUES ($1, $2, $3::text[], $4)
     ON CONFLICT (key_hash) DO NOTHING`,
    [input.label, input.keyHash, input.scopes, input.maskValue ?? null],
  );
  const row = await getPersonalApiKeyByHash(db, input.keyHash);
  if (!row) throw new Error('personal API key vanished right after insert');
  return row;
}

export async function getPersonalApiKeyByHash(db: SqlClient, keyHash: string): Promise<PersonalApiKeyRow | null> {
  const [row] = await db.query(`SELECT ${KEY_COLUMNS} FROM personal_api_keys WHERE key_hash = $1`, [keyHash]);
  return row ? toPersonalApiKey(row) : null;
}

export async function listPersonalApiKeys(db: SqlClient): Promise<PersonalApiKeyRow[]> {
  const rows = await db.query(`SELECT ${KEY_COLUMNS} FROM personal_api_keys ORDER BY created_at DESC, id`);
  return rows.map(toPersonalApiKey);
}

export async function getPersonalApiKey(db: SqlClient, id: string): Promise<PersonalApiKeyRow | null> {
  if (!isUuid(id)) return null;
  const [row] = await db.query(`SELECT ${KEY_COLUMNS} FROM personal_api_keys WHERE id = $1`, [id]);
  return row ? toPersonalApiKey(row) : null;
}

export async function deletePersonalApiKey(db: SqlClient, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  const rows = await db.query('DELETE FROM personal_api_keys WHERE id = $1 RETURNING id', [id]);
  return rows.length > 0;
}

export async function markPersonalApiKeyUsed(db: SqlClient, id: string, at: Date): Promise<void> {
  await db.query(
    `UPDATE personal_api_keys SET last_used_at = $2
     WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2::timestamptz - interval '1 hour')`,
    [id, at],
  );
}

export async function countPersonalApiKeys(db: SqlClient): Promise<number> {
  const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM personal_api_keys');
  return Number(row?.n ?? 0);
}

/**
 * See Store.provisionFirstProject. The transaction-scoped advisory lock serializes concurrent
 * first starts, so the second one sees the first one's project and creates nothing.
 */
export async function provisionFirstProject(
  db: SqlDriver,
  input: {
    project: { name: string; apiToken: string; secretTokenHash: string };
    personalKey: { label: string; keyHash: string; scopes: string[]; maskValue?: string | null } | null;
  },
): Promise<{ project: ProjectRow; personalKeyCreated: boolean } | null> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))::text AS locked', ['vexil_first_project']);
    const [existing] = await tx.query('SELECT 1 AS one FROM projects LIMIT 1');
    if (existing) return null;
    const project = await createProject(tx, input.project);
    let personalKeyCreated = false;
    if (input.personalKey !== null && (await countPersonalApiKeys(tx)) === 0) {
      await createPersonalApiKey(tx, { ...input.personalKey, scopedProjects: null });
      personalKeyCreated = true;
    }
    return { project, personalKeyCreated };
  });
}

/** Bumps the project's revision; called inside every definition-changing transaction. */
export async function bumpRevision(tx: SqlClient, projectId: number): Promise<void> {
  await tx.query('UPDATE projects SET revision = revision + 1 WHERE id = $1', [projectId]);
}
