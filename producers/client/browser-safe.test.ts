/**
 * The client library runs in browsers: nothing it loads may use a Node-only module or global.
 * This walks its import graph from index.ts (type-only imports are erased and skipped).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

function runtimeImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of source.matchAll(/^import\s+(type\s+)?[^'"]*?from\s+'([^']+)';/gms)) {
    if (m[1] === undefined) found.push(m[2] as string);
  }
  for (const m of source.matchAll(/^export\s+(type\s+)?\{[^}]*\}\s+from\s+'([^']+)';/gms)) {
    const clause = m[0];
    // `export { type A, B } from` still loads the module at run time when anything is a value.
    const values = clause
      .replace(/^export\s+(type\s+)?\{|\}.*$/gs, '')
      .split(',')
      .filter((s) => s.trim() !== '' && !s.trim().startsWith('type '));
    if (m[1] === undefined && values.length > 0) found.push(m[2] as string);
  }
  return found;
}

function graph(entry: string): string[] {
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of runtimeImports(file)) {
      expect(spec.startsWith('.'), `${file} imports the package "${spec}"`).toBe(true);
      stack.push(resolve(dirname(file), spec));
    }
  }
  return [...seen];
}

describe('the client library is browser-safe', () => {
  it('loads no Node module and touches no Node global', () => {
    const files = graph(resolve(here, 'index.ts'));
    expect(files.map((f) => f.slice(resolve(here, '../..').length + 1)).sort()).toEqual([
      'core/errors.ts',
      'core/retry.ts',
      'producers/client/client.ts',
      'producers/client/index.ts',
      'producers/client/session.ts',
      'producers/client/wire.ts',
    ]);
    for (const file of files) {
      const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect(code, file).not.toMatch(
        /\bfrom\s+'node:|\brequire\(|\bBuffer\b|\bprocess\.|__dirname|\bsetImmediate\b/,
      );
    }
  });
});
