/**
 * `npm run bench -- <name> [args]`: runs bench/<name>.ts, which measures, prints a table
 * with each result as a ratio against a baseline measured in the same run (the machine is
 * shared and noisy), and writes bench/results/<name>.json with the command that made it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = import.meta.dirname;
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !['run.ts', 'report.ts'].includes(f))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();
const [name, ...rest] = process.argv.slice(2);
if (name === undefined || !existsSync(join(dir, `${name}.ts`)) || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name> [args]\nbenchmarks: ${available.join(', ') || '(none yet)'}`);
  process.exit(name === undefined ? 0 : 2);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', join(dir, `${name}.ts`), ...rest], {
  stdio: 'inherit',
  env: { ...process.env, PLAYLOOP_BENCH_COMMAND: `npm run bench -- ${[name, ...rest].join(' ')}` },
});
process.exit(result.status ?? 1);
