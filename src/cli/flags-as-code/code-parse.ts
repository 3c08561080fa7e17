/**
 * @module cli/flags-as-code/code-parse
 * Reads a flags-as-code YAML file: syntax errors and schema violations are refused with the
 * file's line and the field's path (`flags.yaml:12: flags[1].filters.groups[0].rollout_percentage: …`),
 * before anything is sent to a server. `yaml` keeps source ranges, so every field has its line.
 */
import { isNode, LineCounter, parseDocument, stringify, type Document } from 'yaml';
import { CliError } from '../admin-client.ts';
import { codeFileSchema, type CodeFile } from './code-model.ts';

/** A parsed file and a way to name the line of any field in it. */
export interface ParsedCode {
  file: CodeFile;
  /** `name:line` of the nearest existing node on `path` (for later errors, e.g. unknown references). */
  where(path: readonly (string | number)[]): string;
}

/** `flags[1].filters.groups[0]` from a path. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out === '' ? '' : '.'}${String(p)}`;
  return out || '(top level)';
}

function locator(doc: Document, lines: LineCounter, name: string) {
  return (path: readonly PropertyKey[]): string => {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as unknown[], true);
      if (isNode(node) && node.range) return `${name}:${lines.linePos(node.range[0]).line}`;
    }
    return `${name}:1`;
  };
}

/**
 * Parses and validates `text` (named `name` in messages).
 * @throws CliError (exit 65) naming the line and field of the first problem.
 */
export function parseCode(text: string, name: string): ParsedCode {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line ?? lines.linePos(e.pos[0]).line;
    throw new CliError(`${name}:${line}: invalid YAML: ${e.message.split('\n')[0]}`, 65);
  }
  const where = locator(doc, lines, name);
  const parsed = codeFileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CliError(`${where(issue.path)}: ${fieldPath(issue.path)}: ${issue.message}`, 65);
  }
  const file = parsed.data;
  const seen = new Map<string, number>();
  file.flags.forEach((f, i) => {
    if (seen.has(f.key)) throw new CliError(`${where(['flags', i, 'key'])}: flags[${i}].key: '${f.key}' is already used by flags[${seen.get(f.key)}]`, 65);
    seen.set(f.key, i);
  });
  const names = new Map<string, number>();
  file.cohorts.forEach((c, i) => {
    if (names.has(c.name)) throw new CliError(`${where(['cohorts', i, 'name'])}: cohorts[${i}].name: '${c.name}' is already used by cohorts[${names.get(c.name)}]`, 65);
    names.set(c.name, i);
    if (c.static && c.filters !== null) throw new CliError(`${where(['cohorts', i, 'filters'])}: cohorts[${i}].filters: a static cohort has no filters`, 65);
    if (!c.static && c.filters === null) throw new CliError(`${where(['cohorts', i])}: cohorts[${i}].filters: a dynamic cohort needs filters`, 65);
  });
  return { file, where };
}

/** The YAML text of a file: block style, fixed key order (as built), long lines not folded. */
export function stringifyCode(file: CodeFile, header: string): string {
  return `# ${header}\n${stringify(file, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}
