/**
 * @module bench/http/profile-summary
 * `node dist/bench/http/profile-summary.js FILE.cpuprofile [N]`: the top N functions by self
 * time of a V8 CPU profile (`node --cpu-prof`, or BENCH_CPU_PROF=dir with the HTTP benchmark),
 * self time grouped by package or by file under src/, and the project's and framework's
 * functions by total (inclusive) time. For reading where a run's time went.
 */
import { place, readProfile, type ProfileNode } from './cpu-profile.ts';

function main(): void {
  const [file, nArg] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-summary.js FILE.cpuprofile [N]');
  const top = Number(nArg ?? 25);
  const profile = readProfile(file);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + dt);
    total += dt;
  }
  const byFunction = new Map<string, number>();
  const byPlace = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const f = byId.get(id)!.callFrame;
    const p = place(f.url);
    const name = `${f.functionName || '(anonymous)'}  ${p}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    const group = p.startsWith('src/') ? p : p.split(':')[0]!;
    byPlace.set(group, (byPlace.get(group) ?? 0) + us);
  }
  // Total (inclusive) time: each sample counts once for every distinct function on its stack.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'}  ${place(n.callFrame.url)}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = label(byId.get(at)!);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  const print = (title: string, m: Map<string, number>, n: number) => {
    process.stdout.write(`\n${title}\n`);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) process.stdout.write(`${pct(us)}  ${k}\n`);
  };
  process.stdout.write(`${file}: ${(total / 1e6).toFixed(2)} s sampled\n`);
  print(`top ${top} functions by self time`, byFunction, top);
  print('self time by package / file', byPlace, 20);
  const project = new Map([...inclusive].filter(([k]) => k.includes('src/') || k.includes('fastify') || k.includes('prom-client') || k.includes('pino')));
  print(`top ${top} project and framework functions by total (inclusive) time`, project, top);
}

main();
