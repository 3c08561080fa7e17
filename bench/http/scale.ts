/**
 * @module bench/http/scale
 * Data for the memory and rebuild measurements: many projects of copies of the fixture flags.
 * Projects and cohorts are created through the Store; the flags of each project are written
 * with one INSERT (the admin API rebuilds the project's snapshot after every write, which for
 * 21,000 flags would take minutes and measure the admin path, not what is asked here).
 * Also the in-process rebuild timing of a snapshot.
 */
import pg from 'pg';
import { generateToken, hashSecret } from '../../src/auth/keys.ts';
import { MemoryChangeBus } from '../../src/cache/memory/memory-change-bus.ts';
import { SnapshotCache, toProjectDefs } from '../../src/cache/snapshot-cache.ts';
import { compileSnapshot, type ProjectDefs } from '../../src/engine/index.ts';
import { createLogger } from '../../src/log.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { pool, remapCohorts } from './vexil-admin.ts';

export interface ScaleProject {
  id: number;
  token: string;
  flags: number;
}

/** Creates `count` projects of `copies` × the fixture's flags each (keys suffixed `-cN`), with its cohorts. */
export async function createScaleProjects(databaseUrl: string, defs: ProjectDefs, count: number, copies: number, namePrefix: string): Promise<ScaleProject[]> {
  const store = await openStore({ databaseUrl, dataDir: '.', poolSize: 8 });
  const sql = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  try {
    return await pool(Array.from({ length: count }, (_, i) => i), 4, async (i) => {
      const apiToken = generateToken('phc');
      const project = await store.createProject({ name: `${namePrefix} ${i}`, apiToken, secretTokenHash: hashSecret(generateToken('phs')) });
      const cohortIds = new Map<number, number>();
      for (const c of defs.cohorts) {
        const row = await store.createCohort(project.id, { name: c.name ?? String(c.id), isStatic: false, filters: c.filters }, 'bench');
        cohortIds.set(c.id, row.id);
      }
      const rows = [];
      for (let copy = 0; copy < copies; copy++) {
        for (const f of defs.flags) rows.push({ key: `${f.key}-c${copy}`, name: f.key, filters: remapCohorts(f, cohortIds) });
      }
      await sql.query(
        `INSERT INTO feature_flags (project_id, key, name, filters, active, evaluation_runtime)
         SELECT $1, f->>'key', f->>'name', f->'filters', true, 'all'
         FROM jsonb_array_elements($2::text::jsonb) AS f`,
        [project.id, JSON.stringify(rows)],
      );
      await sql.query('UPDATE projects SET revision = revision + 1 WHERE id = $1', [project.id]);
      return { id: project.id, token: apiToken, flags: rows.length };
    });
  } finally {
    await sql.end();
    await store.close();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Snapshot rebuild time of one project, in this process with Vexil's own SnapshotCache: a flag
 * is updated through the Store (revision bump), then `refresh()` is timed — it reads the
 * definitions from PostgreSQL and compiles them, as a node does after a change notice.
 * `compileMs` is the compile step alone on the same definitions. Medians of `rounds`.
 */
export async function measureRebuild(databaseUrl: string, projectId: number, rounds: number): Promise<{ rebuildMs: number; compileMs: number; flags: number }> {
  const store: Store = await openStore({ databaseUrl, dataDir: '.', poolSize: 2 });
  const bus = new MemoryChangeBus();
  const cache = new SnapshotCache({ store, bus, log: createLogger('warn'), pollIntervalMs: 0 });
  try {
    const first = await cache.get(projectId);
    if (!first) throw new Error(`project ${projectId} not found`);
    const flag = first.definitions.flags[0]!;
    const rebuild: number[] = [];
    for (let i = 0; i < rounds; i++) {
      await store.updateFlag(projectId, flag.id, { name: `rebuild ${i}` }, 'bench');
      const t0 = performance.now();
      await cache.refresh(projectId);
      rebuild.push(performance.now() - t0);
    }
    const defs = (await store.loadProjectDefinitions(projectId))!;
    const compile: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      compileSnapshot(toProjectDefs(defs));
      compile.push(performance.now() - t0);
    }
    return { rebuildMs: median(rebuild), compileMs: median(compile), flags: defs.flags.length };
  } finally {
    await bus.close();
    await store.close();
  }
}
