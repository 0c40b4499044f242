/**
 * `npm run dashboards:gen` writes the Grafana dashboards (dashboards/<slug>.json) from the
 * panel definitions; `--check` writes nothing and fails when a file is stale, missing or
 * left over, so CI catches JSON that no longer matches the definitions.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { grafanaDashboardText } from './grafana.ts';
import { DASHBOARDS } from './panels/index.ts';

export const DASHBOARDS_DIR = import.meta.dirname;

/** Expected file name -> text. */
export function expectedFiles(): Map<string, string> {
  return new Map(DASHBOARDS.map((d) => [`${d.slug}.json`, grafanaDashboardText(d)]));
}

/** Files that differ from what the definitions give (missing, stale or left over). */
export function staleFiles(dir = DASHBOARDS_DIR): string[] {
  const expected = expectedFiles();
  const present = readdirSync(dir).filter((f) => f.endsWith('.json'));
  const stale: string[] = [];
  for (const [file, text] of expected) {
    const current = present.includes(file) ? readFileSync(join(dir, file), 'utf8') : undefined;
    if (current !== text) stale.push(file);
  }
  for (const file of present) if (!expected.has(file)) stale.push(file);
  return stale.sort();
}

function main(argv: readonly string[]): number {
  const check = argv.includes('--check');
  const stale = staleFiles();
  if (check) {
    if (stale.length === 0) {
      console.log(`dashboards: ${DASHBOARDS.length} Grafana dashboards match their definitions`);
      return 0;
    }
    console.error(`dashboards: stale Grafana JSON: ${stale.join(', ')}; run npm run dashboards:gen`);
    return 1;
  }
  const expected = expectedFiles();
  for (const file of stale) {
    const text = expected.get(file);
    if (text === undefined) rmSync(join(DASHBOARDS_DIR, file));
    else writeFileSync(join(DASHBOARDS_DIR, file), text);
  }
  console.log(`dashboards: wrote ${stale.length} of ${expected.size} files`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  process.exitCode = main(process.argv.slice(2));
}
