/**
 * @module engine/compile/dependency-order
 * Orders flags so that dependencies are evaluated first, and finds the flags that cannot be
 * evaluated: part of a cycle, or depending (transitively) on a missing flag or a cycle
 * (spec §4.1 step 4). Iterative (Kahn's algorithm), so long chains cannot overflow the stack.
 */

/**
 * `dependencies[i]` lists the ordinals flag i depends on (-1 = a flag that does not exist).
 * Returns an evaluation order over all flags and which of them have a missing dependency.
 */
export function dependencyOrder(dependencies: readonly (readonly number[])[]): { order: number[]; missing: boolean[] } {
  const n = dependencies.length;
  const missing = new Array<boolean>(n).fill(false);
  const pending = new Int32Array(n);
  const dependents: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) {
    const seen = new Set<number>();
    for (const d of dependencies[i]!) {
      if (d < 0 || d >= n) {
        missing[i] = true;
        continue;
      }
      if (seen.has(d)) continue;
      seen.add(d);
      pending[i]++;
      dependents[d]!.push(i);
    }
  }
  const order: number[] = [];
  const queue: number[] = [];
  for (let i = 0; i < n; i++) if (pending[i] === 0) queue.push(i);
  for (let head = 0; head < queue.length; head++) {
    const i = queue[head]!;
    order.push(i);
    for (const j of dependents[i]!) {
      if (missing[i]) missing[j] = true;
      if (--pending[j]! === 0) queue.push(j);
    }
  }
  // Whatever never became ready sits on a cycle or downstream of one.
  for (let i = 0; i < n; i++) {
    if (pending[i]! > 0) {
      missing[i] = true;
      order.push(i);
    }
  }
  return { order, missing };
}
