/**
 * @module bootstrap
 * First-start provisioning: on an empty store, a default project and a personal API key, shown
 * once; and, when configured, the VEXIL_BOOTSTRAP_KEY made a valid full-access personal key.
 */
import { generateToken, hashSecret, maskKey } from './auth/keys.ts';
import type { Logger } from './log.ts';
import type { Store } from './store/store.ts';

/** What a start provisioned; secrets are set only on the start that created them. */
export interface BootstrapResult {
  /** Set when this start created the default project. */
  project: { id: number; apiToken: string; secretToken: string } | null;
  /** Set when this start generated a personal API key (only without VEXIL_BOOTSTRAP_KEY). */
  personalApiKey: string | null;
}

/** Label of the key made from VEXIL_BOOTSTRAP_KEY. */
export const BOOTSTRAP_KEY_LABEL = 'VEXIL_BOOTSTRAP_KEY';

/**
 * Provisions an empty store and ensures the bootstrap key. Idempotent: a store that already has
 * a project is left alone, and the bootstrap key is inserted only when absent.
 * `print` receives the one-time secrets (stdout in production); they never go to the log.
 */
export async function bootstrapStore(
  store: Store,
  options: { bootstrapKey: string | null; log: Logger; print: (text: string) => void },
): Promise<BootstrapResult> {
  const { bootstrapKey, log, print } = options;
  if (bootstrapKey !== null) {
    await store.ensurePersonalApiKey({ label: BOOTSTRAP_KEY_LABEL, keyHash: hashSecret(bootstrapKey), scopes: ['*'], maskValue: maskKey(bootstrapKey) });
  }
  const result: BootstrapResult = { project: null, personalApiKey: null };
  if ((await store.listProjects()).length > 0) return result;

  // Several nodes may start together on an empty database: the store creates the project (and
  // key) for exactly one of them; the others find it there and print nothing.
  const apiToken = generateToken('phc');
  const secretToken = generateToken('phs');
  const key = bootstrapKey === null ? generateToken('phx') : null;
  const created = await store.provisionFirstProject({
    project: { name: 'Default project', apiToken, secretTokenHash: hashSecret(secretToken) },
    personalKey: key === null ? null : { label: 'bootstrap', keyHash: hashSecret(key), scopes: ['*'], maskValue: maskKey(key) },
  });
  if (created === null) return result;
  const project = created.project;
  result.project = { id: project.id, apiToken, secretToken };
  if (created.personalKeyCreated) result.personalApiKey = key;
  log.info({ projectId: project.id }, 'created the default project');
  print(
    [
      '',
      'Vexil: first start, created a default project. These secrets are shown only once:',
      `  project id:           ${project.id}`,
      `  project token:        ${apiToken}   (public; SDKs send it)`,
      `  project secret key:   ${secretToken}   (local evaluation)`,
      result.personalApiKey !== null
        ? `  personal API key:     ${result.personalApiKey}   (admin API, Authorization: Bearer …)`
        : `  personal API key:     the value of VEXIL_BOOTSTRAP_KEY`,
      '',
    ].join('\n'),
  );
  return result;
}
