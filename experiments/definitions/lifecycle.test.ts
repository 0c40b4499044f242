import { describe, expect, it } from 'vitest';
import { canTransition, checkChange } from './lifecycle.ts';
import type { ExperimentDefinition } from './schema.ts';
import { loadExperiments } from './validate.ts';

const [abr] = await loadExperiments(`${import.meta.dirname}/..`);
if (abr === undefined) throw new Error('experiments/abr-bandwidth-factor.yaml is missing');

const revise = (changes: Partial<ExperimentDefinition>): ExperimentDefinition => ({ ...abr, ...changes });

describe('status transitions', () => {
  it.each([
    ['draft', 'running', true],
    ['draft', 'stopped', true],
    ['running', 'stopped', true],
    ['running', 'shipped', true],
    ['stopped', 'shipped', true],
    ['running', 'running', true],
    ['stopped', 'running', false],
    ['running', 'draft', false],
    ['shipped', 'running', false],
    ['shipped', 'stopped', false],
    ['draft', 'shipped', false],
  ] as const)('%s -> %s: %s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed);
  });
});

describe('checkChange', () => {
  it('lets a running experiment ramp traffic and stop', () => {
    expect(checkChange(abr, revise({ trafficShare: 1 }))).toEqual([]);
    expect(checkChange(abr, revise({ status: 'stopped' }))).toEqual([]);
    expect(checkChange(abr, revise({ status: 'shipped', shippedCell: 'headroom-0-8' }))).toEqual([]);
  });

  it('refuses a restart after a stop', () => {
    const stopped = revise({ status: 'stopped' });
    expect(checkChange(stopped, abr)).toEqual([
      { path: ['status'], reason: 'cannot go from stopped to running; from stopped: shipped' },
    ]);
  });

  it('freezes what decides the cells once the experiment has run', () => {
    const cells = abr.cells.map((c, i) => (i === 1 ? { ...c, weight: 4000 } : { ...c, weight: 6000 }));
    expect(checkChange(abr, revise({ seed: 'another', cells })).map((i) => i.path)).toEqual([
      ['seed'],
      ['cells'],
    ]);
    const primary = { ...abr.metrics.primary, metric: 'startupMs' as const };
    expect(checkChange(abr, revise({ metrics: { ...abr.metrics, primary } })).map((i) => i.path)).toEqual([
      ['metrics', 'primary'],
    ]);
  });

  it('lets a draft change anything', () => {
    const draft = revise({ status: 'draft' });
    expect(checkChange(draft, revise({ status: 'draft', seed: 'another', unit: 'session' }))).toEqual([]);
  });
});
