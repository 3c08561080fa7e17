/**
 * @module store/embedded/memory-settings
 * The PostgreSQL settings that size the embedded database's memory, and how they reach PGlite.
 * Kept apart from embedded-store.ts so config.ts can read the defaults without loading PGlite.
 *
 * Why they matter: PGlite's WebAssembly memory can grow but never shrink, and PostgreSQL's
 * shared memory (mostly `shared_buffers`) is allocated inside it at start-up. initdb writes
 * `shared_buffers = 128MB` into postgresql.conf, which grows the memory to ~190 MB and leaves a
 * node at ~340 MB RSS; a few MB of buffers leave it near 150 MB. The data files live on disk
 * (read through the OS page cache), so a small buffer pool costs little for Vexil's working set.
 */

/** Memory settings of the embedded PostgreSQL (sizes in MiB). */
export interface EmbeddedMemorySettings {
  /** `shared_buffers`: the page cache inside PostgreSQL, allocated at start-up. */
  readonly sharedBuffersMb: number;
  /** `work_mem`: per sort or hash before spilling to disk, allocated on demand. */
  readonly workMemMb: number;
  /** `maintenance_work_mem`: per CREATE INDEX or VACUUM, allocated on demand. */
  readonly maintenanceWorkMemMb: number;
  /**
   * Let V8 recompile hot WebAssembly functions with its optimizing compiler (TurboFan): 35–60 MB
   * more resident, queries ~10–50 % faster (BENCHMARKS.md). Off: baseline code (Liftoff) only.
   */
  readonly wasmTierUp: boolean;
}

/** Defaults sized for a small idle footprint; raise them for large person tables. */
export const defaultEmbeddedMemory: EmbeddedMemorySettings = Object.freeze({
  sharedBuffersMb: 8,
  workMemMb: 4,
  maintenanceWorkMemMb: 16,
  wasmTierUp: false,
});

/**
 * `-c name=value` start-up arguments for the settings. Command-line settings win over the
 * postgresql.conf that initdb wrote, so the data directory itself is never rewritten.
 */
export function memoryStartParams(settings: EmbeddedMemorySettings): string[] {
  return [
    '-c',
    `shared_buffers=${settings.sharedBuffersMb}MB`,
    '-c',
    `work_mem=${settings.workMemMb}MB`,
    '-c',
    `maintenance_work_mem=${settings.maintenanceWorkMemMb}MB`,
  ];
}
