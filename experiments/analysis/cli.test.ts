import { describe, expect, it } from 'vitest';
import { ANALYZE_USAGE, experimentsAnalyzeCommand } from './cli.ts';

function capture(): {
  out: { log(l: string): void; error(l: string): void };
  logs: string[];
  errors: string[];
} {
  const logs: string[] = [];
  const errors: string[] = [];
  return { out: { log: (l) => logs.push(l), error: (l) => errors.push(l) }, logs, errors };
}

describe('playloop experiments analyze', () => {
  it('prints its usage on --help', async () => {
    const c = capture();
    expect(await experimentsAnalyzeCommand(['--help'], c.out)).toBe(0);
    expect(c.logs).toEqual([ANALYZE_USAGE]);
  });

  it('refuses bad usage with exit code 2 before touching ClickHouse', async () => {
    for (const argv of [
      [],
      ['a', 'b'],
      ['k', '--mode', 'bayesian'],
      ['k', '--at', 'yesterday'],
      ['k', '--bogus'],
    ]) {
      const c = capture();
      expect(await experimentsAnalyzeCommand(argv, c.out)).toBe(2);
      expect(c.errors.join('\n')).toMatch(/^playloop experiments analyze: .*\nusage: /s);
    }
  });

  it('names the known experiments when the key is unknown (exit code 1)', async () => {
    const c = capture();
    expect(await experimentsAnalyzeCommand(['no-such-experiment'], c.out)).toBe(1);
    expect(c.errors[0]).toMatch(/no experiment no-such-experiment in .*; known: .*abr-bandwidth-factor/);
  });
});
