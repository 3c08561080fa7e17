/**
 * @module engine/match/regex-backtrack
 * Step-capped backtracking matcher for patterns RE2 cannot run (look-around, backreferences,
 * atomic groups). It gives up, answering null, once its budget is spent; it never hangs.
 */
import { At, Op, type Inst, type Program } from './regex-program.ts';
import { testCharAt } from './regex-class.ts';
import { isWordAt, isWordBefore, matchRepeat, previousCodePoint } from './regex-unicode.ts';

/**
 * Backtracks allowed per search: PostHog's `REGEX_BACKTRACK_LIMIT` (10 000, in
 * `rust/feature-flags/src/properties/property_matching.rs`), counted as fancy_regex counts them:
 * one per saved branch resumed after a failure, and one per start position given up.
 */
export const MAX_BACKTRACKS = 10_000;

/**
 * Work allowed per search, plus {@link WORK_PER_CHAR} per UTF-16 unit of the subject: work is
 * instructions executed, characters compared by backreferences and an upper bound on what each
 * re2js call may scan. Backtracks alone do not bound time (a branch can do much work before
 * failing). The fixed part caps a search at about a millisecond; the per-character part lets
 * near-linear scans of long subjects finish while superlinear work still stops.
 */
export const MAX_WORK = 250_000;
export const WORK_PER_CHAR = 8;

/** re2js anchors a match at the start of the (sliced) input with this flag. */
const ANCHOR_START = 1;

/** Initial and retained capacity of the branch and capture-undo stacks (in int32 entries). */
const SMALL_STACK = 1024;

/** A reusable matcher for one program. Not reentrant; `test` is synchronous, which suffices. */
export class Backtracker {
  private readonly insts: readonly Inst[];
  private readonly slots: Int32Array;
  /** Saved branches as (pc, pos, trail length) triples; `sp` is the next free entry. */
  private stack = new Int32Array(SMALL_STACK);
  private sp = 0;
  /** Undo log of capture writes as (slot, previous value) pairs; `tp` is the next free entry. */
  private trail = new Int32Array(SMALL_STACK);
  private tp = 0;
  private s = '';
  private backtracks = 0;
  private work = 0;
  private workLimit = 0;
  private aborted = false;

  /**
   * @param program compiled pattern
   * @param countBacktracks apply {@link MAX_BACKTRACKS}; off for patterns fancy_regex itself would
   *   run on its linear engine (only {@link MAX_WORK} applies to them)
   */
  constructor(
    private readonly program: Program,
    private readonly countBacktracks: boolean,
  ) {
    this.insts = program.insts;
    this.slots = new Int32Array(program.slotCount);
  }

  /** Unanchored search: true/false, or null when the budget ran out first. Never throws. */
  test(subject: string): boolean | null {
    this.s = subject;
    this.backtracks = 0;
    this.work = 0;
    this.workLimit = MAX_WORK + WORK_PER_CHAR * subject.length;
    this.aborted = false;
    try {
      for (let start = 0; ; ) {
        this.slots.fill(-1);
        this.sp = 0;
        this.tp = 0;
        if (this.run(0, start, -1) >= 0) return true;
        if (this.aborted) return null;
        if (this.program.anchored || start >= subject.length) return false;
        start += this.cpLength(start);
        // fancy_regex searches through a lazy `.*?` prefix: moving the start is one backtrack.
        if (this.countBacktracks && ++this.backtracks > MAX_BACKTRACKS) return null;
      }
    } finally {
      this.s = '';
      // Do not keep megabytes alive after one adversarial subject.
      if (this.stack.length > SMALL_STACK * 64) this.stack = new Int32Array(SMALL_STACK);
      if (this.trail.length > SMALL_STACK * 64) this.trail = new Int32Array(SMALL_STACK);
    }
  }

  private cpLength(i: number): number {
    const c = this.s.charCodeAt(i);
    return c >= 0xd800 && c <= 0xdbff && (this.s.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
  }

  private push(pc: number, pos: number): void {
    if (this.sp + 3 > this.stack.length) {
      const bigger = new Int32Array(this.stack.length * 2);
      bigger.set(this.stack);
      this.stack = bigger;
    }
    const stack = this.stack;
    stack[this.sp] = pc;
    stack[this.sp + 1] = pos;
    stack[this.sp + 2] = this.tp;
    this.sp += 3;
  }

  private save(slot: number, pos: number): void {
    if (this.tp + 2 > this.trail.length) {
      const bigger = new Int32Array(this.trail.length * 2);
      bigger.set(this.trail);
      this.trail = bigger;
    }
    this.trail[this.tp] = slot;
    this.trail[this.tp + 1] = this.slots[slot]!;
    this.tp += 2;
    this.slots[slot] = pos;
  }

  /**
   * Runs instructions from `pc` at `pos` until `Done` (returning the end position) or until every
   * branch saved since entry has failed (-1). With `mustEnd >= 0`, `Done` only counts there.
   */
  private run(startPc: number, startPos: number, mustEnd: number): number {
    const { insts, slots, s } = this;
    const base = this.sp;
    const len = s.length;
    let pc = startPc;
    let pos = startPos;
    for (;;) {
      if (++this.work > this.workLimit) return this.abort(base);
      const inst = insts[pc]!;
      let ok = true;
      switch (inst.op) {
        case Op.Char:
          if (pos < len && s.codePointAt(pos) === inst.a) {
            pos += inst.a > 0xffff ? 2 : 1;
            pc++;
          } else ok = false;
          break;
        case Op.Set:
          if (pos < len && testCharAt(inst.test!, s, pos)) {
            pos += this.cpLength(pos);
            pc++;
          } else ok = false;
          break;
        case Op.Any:
        case Op.AnyNoNl:
          if (pos < len && (inst.op === Op.Any || s.charCodeAt(pos) !== 10)) {
            pos += this.cpLength(pos);
            pc++;
          } else ok = false;
          break;
        case Op.Assert:
          ok = this.assert(inst.a, pos);
          pc++;
          break;
        case Op.Split:
          this.push(inst.b, pos);
          pc = inst.a;
          break;
        case Op.Jmp:
          pc = inst.a;
          break;
        case Op.Save:
          this.save(inst.a, pos);
          pc++;
          break;
        case Op.Check:
          ok = slots[inst.a] !== pos;
          pc++;
          break;
        case Op.Backref: {
          const end = this.backref(inst.a, inst.b === 1, pos);
          ok = end >= 0;
          pos = end;
          pc++;
          break;
        }
        case Op.Look: {
          const mark = this.tp;
          const found = (inst.b & 1) === 1 ? this.run(inst.a, pos, -1) >= 0 : this.lookBehind(inst, pos);
          if (this.aborted) return this.abort(base);
          if ((inst.b & 2) === 2) {
            // A negative look-around that matched fails, and its captures are forgotten.
            if (found) this.undo(mark);
            ok = !found;
          } else ok = found;
          pc++;
          break;
        }
        case Op.Atomic: {
          const end = this.run(inst.a, pos, -1);
          if (this.aborted) return this.abort(base);
          ok = end >= 0;
          pos = end;
          pc++;
          break;
        }
        case Op.DelegateTest:
          ok = this.delegate(inst, pos, false) >= 0 !== (inst.b === 1);
          if (this.aborted) return this.abort(base);
          pc++;
          break;
        case Op.DelegateEat:
          pos = this.delegate(inst, pos, true);
          if (this.aborted) return this.abort(base);
          ok = pos >= 0;
          pc++;
          break;
        case Op.Done:
          if (mustEnd < 0 || pos === mustEnd) {
            // Branches saved inside a look-around or atomic group are discarded once it matches.
            this.sp = base;
            return pos;
          }
          ok = false;
          break;
      }
      if (ok) continue;
      if (this.sp === base) return -1;
      if (this.countBacktracks && ++this.backtracks > MAX_BACKTRACKS) return this.abort(base);
      this.sp -= 3;
      const stack = this.stack;
      pc = stack[this.sp]!;
      pos = stack[this.sp + 1]!;
      this.undo(stack[this.sp + 2]!);
    }
  }

  private abort(base: number): number {
    this.aborted = true;
    this.sp = base;
    return -1;
  }

  /** Restores captures written since the trail was at `mark`. */
  private undo(mark: number): void {
    const { trail, slots } = this;
    for (let t = this.tp; t > mark; t -= 2) slots[trail[t - 2]!] = trail[t - 1]!;
    this.tp = mark;
  }

  private assert(kind: number, pos: number): boolean {
    const s = this.s;
    switch (kind) {
      case At.TextStart:
        return pos === 0;
      case At.TextEnd:
        return pos === s.length;
      case At.TextEndNl: {
        // `\Z`: only newlines remain.
        let i = pos;
        while (i < s.length && s.charCodeAt(i) === 10) i++;
        this.work += i - pos;
        return i === s.length;
      }
      case At.LineStart:
        return pos === 0 || s.charCodeAt(pos - 1) === 10;
      case At.LineEnd:
        return pos === s.length || s.charCodeAt(pos) === 10;
      case At.WordB:
        return isWordBefore(s, pos) !== isWordAt(s, pos);
      case At.NotWordB:
        return isWordBefore(s, pos) === isWordAt(s, pos);
      case At.WordStart:
        return !isWordBefore(s, pos) && isWordAt(s, pos);
      default:
        return isWordBefore(s, pos) && !isWordAt(s, pos);
    }
  }

  /** Matches the text of capture `group` at `pos`; end position or -1. An unset group never matches. */
  private backref(group: number, caseless: boolean, pos: number): number {
    const from = this.slots[2 * group]!;
    const to = this.slots[2 * group + 1]!;
    if (from < 0 || to < 0) return -1;
    this.work += to - from;
    return matchRepeat(this.s, from, to, pos, caseless);
  }

  /** Tries the body from each start `min`..`max` code points back; it must end exactly at `pos`. */
  private lookBehind(inst: Inst, pos: number): boolean {
    for (let back = 0, start = pos; ; back++, start = previousCodePoint(this.s, start)) {
      if (back >= inst.min && this.run(inst.a, start, pos) >= 0) return true;
      if (this.aborted || back >= inst.max || start === 0) return false;
    }
  }

  /**
   * Runs a backtracking-free sub-pattern in re2js, anchored at `pos`; returns its end or -1.
   * re2js sees `s.slice(pos)` (V8 slices without copying), so delegates never look left.
   */
  private delegate(inst: Inst, pos: number, wantEnd: boolean): number {
    const s = this.s;
    // re2js reads at most `max` code points (two UTF-16 units each) past `pos`, and at most the rest.
    this.work += Math.min(s.length - pos, 2 * inst.max) + 1;
    if (this.work > this.workLimit) {
      this.aborted = true;
      return -1;
    }
    const input = pos === 0 ? s : s.slice(pos);
    const res = inst.re!.matchWithGroup(input, 0, input.length, ANCHOR_START, wantEnd ? 1 : 0) as [boolean, number[] | null];
    if (!res[0]) return -1;
    return wantEnd ? pos + res[1]![1]! : pos;
  }
}
