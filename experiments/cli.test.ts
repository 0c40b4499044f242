import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CommandOutput, experimentsCommand, experimentsValidateCommand } from './cli.ts';

function capture(): CommandOutput & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, log: (line) => out.push(line), error: (line) => err.push(line) };
}

const fixture = (name: string) =>
  relative(process.cwd(), `${import.meta.dirname}/definitions/fixtures/${name}`);

describe('playloop experiments validate', () => {
  it('validates every definition in experiments/ by default', async () => {
    const io = capture();
    expect(await experimentsValidateCommand([], io)).toBe(0);
    expect(io.err).toEqual([]);
    expect(io.out).toEqual([
      '2 experiment definition(s) valid: abr-bandwidth-factor (running), steering-health-weighted (running)',
    ]);
  });

  it('prints each error as file: path: reason and exits 1', async () => {
    const io = capture();
    const files = [fixture('two-controls.yaml'), fixture('weights-not-10000.yaml')];
    expect(await experimentsValidateCommand(files, io)).toBe(1);
    expect(io.err).toEqual([
      `${files[0]}: cells[1].control: a second control cell; cells[0] is already the control and there must be exactly one (line 24)`,
      `${files[1]}: cells: weights sum to 9000 basis points; they must sum to exactly 10000 (100%) (line 18)`,
      '2 of 2 definition file(s) invalid, 2 issue(s)',
    ]);
  });

  it('validates the definitions in a directory as a set', async () => {
    const io = capture();
    expect(await experimentsValidateCommand([fixture('overlap')], io)).toBe(1);
    expect(io.err[0]).toMatch(/overlap-b\.yaml: namespace\.range: \[5000, 10000\) overlaps \[0, 6000\)/);
    const ok = capture();
    expect(await experimentsValidateCommand([fixture('consistent')], ok)).toBe(0);
  });

  it('exits 2 on a usage error and 0 on --help', async () => {
    const io = capture();
    expect(await experimentsValidateCommand(['--strict'], io)).toBe(2);
    expect(io.err[0]).toContain('unknown option --strict');
    expect(await experimentsValidateCommand(['--help'], capture())).toBe(0);
    expect(await experimentsCommand(['frobnicate'], capture())).toBe(2);
    expect(await experimentsCommand(['validate'], capture())).toBe(0);
  });
});
