/**
 * @module engine/match/regex-program
 * Compiles a parsed pattern into instructions for the step-capped backtracker, handing
 * backtracking-free sub-patterns to re2js the way fancy_regex hands them to the regex crate.
 */
import { RE2JS } from 're2js';
import { someNode, widthOf, type Node, type ParsedRegex } from './regex-ast.ts';
import { compileCharTest, type CharTest } from './regex-class.ts';
import { translateDelegate } from './regex-re2.ts';

/** Instruction codes (plain numbers: the interpreter switches on them). */
export const Op = {
  Char: 0, Set: 1, Any: 2, AnyNoNl: 3, Assert: 4, Split: 5, Jmp: 6, Save: 7, Check: 8, Backref: 9, Look: 10,
  Atomic: 11, DelegateTest: 12, DelegateEat: 13, Done: 14,
} as const;
export type Op = (typeof Op)[keyof typeof Op];

/** Assertion codes for `Op.Assert`. */
export const At = {
  TextStart: 0, TextEnd: 1, TextEndNl: 2, LineStart: 3, LineEnd: 4, WordB: 5, NotWordB: 6, WordStart: 7, WordEnd: 8,
} as const;

/** The compiled form of re2js's engine, used for anchored matches at an offset. */
export type Re2 = ReturnType<RE2JS['re2']>;

/**
 * One instruction; every instruction has every field so the interpreter's accesses stay
 * monomorphic. `a`/`b` are jump targets, code points, slots or flags depending on `op`.
 */
export interface Inst {
  op: Op;
  a: number;
  b: number;
  /** Shortest and longest body length in code points (look-behind; `max` also for re2js calls). */
  min: number;
  max: number;
  test: CharTest | null;
  re: Re2 | null;
}

/** A program: instructions (main program at 0, sub-programs after it) and its slot count. */
export interface Program {
  readonly insts: readonly Inst[];
  readonly slotCount: number;
  /** Every match must start at position 0 (the pattern begins with `\A`/`^`). */
  readonly anchored: boolean;
}

/** Upper bound on instructions, so counted repetitions cannot make a huge program. */
const MAX_INSTS = 100_000;

const ASSERT_CODES = {
  textStart: At.TextStart, textEnd: At.TextEnd, textEndNl: At.TextEndNl, lineStart: At.LineStart,
  lineEnd: At.LineEnd, wordB: At.WordB, notWordB: At.NotWordB, wordStart: At.WordStart, wordEnd: At.WordEnd,
} as const;

function re2Of(source: string | null): Re2 | null {
  if (source === null) return null;
  try {
    return RE2JS.compile(source).re2();
  } catch {
    return null;
  }
}

/** Whether the node can backtrack at all; delegating anything else would only add overhead. */
const canBacktrack = (n: Node): boolean => someNode(n, (x) => x.type === 'repeat' || x.type === 'alt');

class Builder {
  readonly insts: Inst[] = [];
  slotCount: number;
  private readonly pending: { inst: Inst; body: Node }[] = [];

  constructor(private readonly parsed: ParsedRegex) {
    this.slotCount = 2 * (parsed.groupCount + 1);
  }

  private emit(op: Op, a = 0, b = 0): Inst {
    if (this.insts.length >= MAX_INSTS) throw new RangeError('regex program too large');
    const inst: Inst = { op, a, b, min: 0, max: 0, test: null, re: null };
    this.insts.push(inst);
    return inst;
  }

  /** A re2js call; `max` bounds (in code points) how far it can read, for the work budget. */
  private delegate(op: Op, re: Re2, body: Node): Inst {
    const inst = this.emit(op);
    inst.re = re;
    inst.max = widthOf(body).max;
    return inst;
  }

  /** True when no capture in `n` is read by a backreference, so re2js may run it. */
  private capturesFree(n: Node): boolean {
    return !someNode(n, (x) => x.type === 'group' && x.index !== null && this.parsed.referenced.has(x.index));
  }

  build(root: Node): void {
    this.tail(root);
    for (let job = this.pending.shift(); job !== undefined; job = this.pending.shift()) {
      job.inst.a = this.insts.length;
      this.node(job.body);
      this.emit(Op.Done);
    }
  }

  /**
   * Emits `n` where nothing after it has to match (the end of the pattern), every path ending in
   * `Done`. A yes/no search only needs the trailing run of backtracking-free items to match
   * somehow, so one anchored re2js call checks it, and alternatives in tail position get the
   * same treatment: this is where fancy_regex hands work to the regex crate, too.
   */
  private tail(n: Node): void {
    if (n.type === 'group' && (n.index === null || !this.parsed.referenced.has(n.index))) return this.tail(n.body);
    if (n.type === 'alt') {
      n.items.forEach((item, i) => {
        const split = i < n.items.length - 1 ? this.emit(Op.Split, this.insts.length + 1) : null;
        this.tail(item);
        if (split !== null) split.b = this.insts.length;
      });
      return;
    }
    const items = n.type === 'concat' ? n.items : [n];
    let split = items.length;
    // Translation is compositional, so checking item by item finds the longest translatable suffix.
    while (split > 0) {
      const item = items[split - 1]!;
      if (!this.capturesFree(item) || translateDelegate(item, split === items.length) === null) break;
      split--;
    }
    const suffix: Node = { type: 'concat', items: items.slice(split) };
    const re = split < items.length && canBacktrack(suffix) ? re2Of(translateDelegate(suffix, true)) : null;
    if (re !== null) {
      for (const item of items.slice(0, split)) this.node(item);
      this.delegate(Op.DelegateTest, re, suffix);
      this.emit(Op.Done);
      return;
    }
    const last = items[items.length - 1];
    for (const item of items.slice(0, -1)) this.node(item);
    if (last !== undefined && (last.type === 'alt' || last.type === 'group') && last !== n) return this.tail(last);
    if (last !== undefined) this.node(last);
    this.emit(Op.Done);
  }

  private node(n: Node): void {
    switch (n.type) {
      case 'empty':
        return;
      case 'char':
        if (n.caseless) this.emit(Op.Set).test = compileCharTest({ k: 'range', lo: n.cp, hi: n.cp }, true);
        else this.emit(Op.Char, n.cp);
        return;
      case 'set':
        if (n.item.k === 'any') this.emit(n.item.nl ? Op.Any : Op.AnyNoNl);
        else this.emit(Op.Set).test = compileCharTest(n.item, n.caseless);
        return;
      case 'assert':
        this.emit(Op.Assert, ASSERT_CODES[n.kind]);
        return;
      case 'concat':
        for (const item of n.items) this.node(item);
        return;
      case 'alt': {
        const jumps: Inst[] = [];
        n.items.forEach((item, i) => {
          const split = i < n.items.length - 1 ? this.emit(Op.Split, this.insts.length + 1) : null;
          this.node(item);
          if (split !== null) {
            jumps.push(this.emit(Op.Jmp));
            split.b = this.insts.length;
          }
        });
        for (const jmp of jumps) jmp.a = this.insts.length;
        return;
      }
      case 'group': {
        // Only captures that a backreference reads need recording.
        const save = n.index !== null && this.parsed.referenced.has(n.index);
        if (save) this.emit(Op.Save, 2 * n.index!);
        this.node(n.body);
        if (save) this.emit(Op.Save, 2 * n.index! + 1);
        return;
      }
      case 'repeat':
        this.repeat(n.body, n.min, n.max, n.greedy);
        return;
      case 'look':
        this.look(n.body, n.ahead, n.negate);
        return;
      case 'atomic': {
        const re = canBacktrack(n.body) && this.capturesFree(n.body) ? re2Of(translateDelegate(n.body, false)) : null;
        if (re !== null) this.delegate(Op.DelegateEat, re, n.body);
        else this.pending.push({ inst: this.emit(Op.Atomic), body: n.body });
        return;
      }
      case 'backref':
        this.emit(Op.Backref, n.index, n.caseless ? 1 : 0);
        return;
    }
  }

  /** Counted repetitions are unrolled; unbounded ones loop, with an empty-iteration guard when needed. */
  private repeat(body: Node, min: number, max: number, greedy: boolean): void {
    for (let i = 0; i < min; i++) this.node(body);
    if (max === Infinity) {
      const canBeEmpty = widthOf(body).min === 0;
      const slot = canBeEmpty ? this.slotCount++ : -1;
      const loopPc = this.insts.length;
      const loop = this.emit(Op.Split);
      const bodyStart = this.insts.length;
      if (canBeEmpty) this.emit(Op.Save, slot);
      this.node(body);
      // An iteration that consumed nothing cannot make progress: fail it (fancy_regex does too).
      if (canBeEmpty) this.emit(Op.Check, slot);
      this.emit(Op.Jmp, loopPc);
      [loop.a, loop.b] = greedy ? [bodyStart, this.insts.length] : [this.insts.length, bodyStart];
      return;
    }
    const splits: Inst[] = [];
    for (let i = min; i < max; i++) {
      splits.push(this.emit(Op.Split, this.insts.length + 1));
      this.node(body);
    }
    for (const split of splits) {
      if (greedy) split.b = this.insts.length;
      else [split.a, split.b] = [this.insts.length, split.a];
    }
  }

  private look(body: Node, ahead: boolean, negate: boolean): void {
    if (ahead && canBacktrack(body) && this.capturesFree(body)) {
      const re = re2Of(translateDelegate(body, true));
      if (re !== null) {
        this.delegate(Op.DelegateTest, re, body).b = negate ? 1 : 0;
        return;
      }
    }
    const inst = this.emit(Op.Look, 0, (ahead ? 1 : 0) | (negate ? 2 : 0));
    const width = widthOf(body);
    inst.min = width.min;
    inst.max = width.max;
    this.pending.push({ inst, body });
  }
}

/** Whether every match of `n` must start at text position 0. */
function anchoredAtStart(n: Node): boolean {
  switch (n.type) {
    case 'assert':
      return n.kind === 'textStart';
    case 'concat':
      return n.items.length > 0 && anchoredAtStart(n.items[0]!);
    case 'alt':
      return n.items.length > 0 && n.items.every(anchoredAtStart);
    case 'group':
    case 'atomic':
      return anchoredAtStart(n.body);
    default:
      return false;
  }
}

/** Compiles for the backtracker; null when the program would exceed {@link MAX_INSTS}. */
export function compileProgram(parsed: ParsedRegex): Program | null {
  const builder = new Builder(parsed);
  try {
    builder.build(parsed.root);
  } catch (err) {
    if (err instanceof RangeError) return null;
    throw err;
  }
  return { insts: builder.insts, slotCount: builder.slotCount, anchored: anchoredAtStart(parsed.root) };
}
