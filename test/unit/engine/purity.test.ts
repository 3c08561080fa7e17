// The engine is the functional core: it imports nothing from the rest of Vexil and does no I/O
// and no clock reads (STYLE §2, §3). This test reads the sources to keep it that way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const engineDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src/engine');
const ALLOWED_PACKAGES = new Set(['re2js', '@eslint-community/regexpp']);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

for (const file of sources(engineDir)) {
  const name = relative(engineDir, file);
  test(`engine/${name} imports only the engine and its allowed packages`, () => {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]/g)) {
      const spec = m[1] ?? m[2]!;
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        assert.ok(target.startsWith(engineDir), `${name} imports ${spec}, outside src/engine`);
      } else {
        assert.ok(ALLOWED_PACKAGES.has(spec), `${name} imports ${spec}; the engine may not`);
      }
    }
  });
  test(`engine/${name} reads no clock, environment or process state`, () => {
    const code = readFileSync(file, 'utf8').replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
    for (const banned of [/Date\.now\(/, /new Date\(\s*\)/, /performance\.now/, /process\./, /Math\.random/, /setTimeout|setInterval/]) {
      assert.doesNotMatch(code, banned, `${name} uses ${banned}`);
    }
  });
}
