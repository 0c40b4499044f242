import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ExperimentDefinition } from '../../experiments/definitions/schema.ts';
import { parseExperiment } from '../../experiments/definitions/validate.ts';
import type { AbrConfig } from '../../schemas/generated/abr-config.ts';
import type { ExperimentDecision } from './decisions.ts';
import { EMPTY_KNOBS } from './knobs.ts';
import {
  ACTORS,
  cohortScope,
  defaultRollbackTarget,
  observedAudit,
  planPromotion,
  planRollback,
} from './plan.ts';

const file = join(import.meta.dirname, '../../experiments/abr-bandwidth-factor.yaml');
const definition = parseExperiment(readFileSync(file, 'utf8'), file).definition as ExperimentDefinition;
const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);

const ship: ExperimentDecision = {
  experimentKey: 'abr-bandwidth-factor',
  decision: 'ship',
  cell: 'headroom-0-8',
  reasons: ['Cell headroom-0-8: primary rebufferRatio -0.004 (-18.00%) better (adjusted p=0.001).'],
  decidedAt: NOW - 60_000,
  windowStart: NOW - 14 * 86_400_000,
  windowEnd: NOW - 60_000,
  metrics: { 'primary.rebufferRatio.relativeDifference': -0.18 },
};

function promoted(): AbrConfig {
  const plan = planPromotion({
    decision: ship,
    definition,
    current: undefined,
    alreadyPromoted: false,
    nowMs: NOW,
  });
  if (plan.kind !== 'promote') throw new Error(plan.reason);
  return plan.doc;
}

describe('planPromotion', () => {
  it("promotes the shipped cell's knobs to cohort:<key> with the experiment's targeting", () => {
    const plan = planPromotion({
      decision: ship,
      definition,
      current: undefined,
      alreadyPromoted: false,
      nowMs: NOW,
    });
    expect(plan.kind).toBe('promote');
    if (plan.kind !== 'promote') return;
    expect(plan.doc).toEqual({
      scope: 'cohort:abr-bandwidth-factor',
      version: 1,
      generatedAt: NOW,
      knobs: { ...EMPTY_KNOBS, abrBandWidthFactor: 0.8 },
      targeting: { deviceClasses: ['tv', 'desktop'], countries: [], isps: [] },
      action: 'promote',
      previousVersion: null,
      evidence: {
        reason: expect.stringMatching(
          /^experiment abr-bandwidth-factor shipped cell headroom-0-8: abrBandWidthFactor=0\.8 for devices tv\/desktop\. Cell headroom-0-8: primary/,
        ),
        experimentKey: 'abr-bandwidth-factor',
        cell: 'headroom-0-8',
        windowStart: ship.windowStart,
        windowEnd: ship.windowEnd,
        metrics: { 'primary.rebufferRatio.relativeDifference': -0.18 },
      },
    });
    expect(plan.audit).toMatchObject({
      scope: 'cohort:abr-bandwidth-factor',
      action: 'promote',
      fromVersion: 0,
      toVersion: 1,
      knobsBefore: EMPTY_KNOBS,
      knobsAfter: { ...EMPTY_KNOBS, abrBandWidthFactor: 0.8 },
      actor: ACTORS.promotion,
      sourceRank: 1,
    });
  });

  it('keeps knobs of the current document the cell does not set, and counts versions on', () => {
    const current: AbrConfig = {
      ...promoted(),
      version: 4,
      knobs: { ...EMPTY_KNOBS, maxBufferLength: 20, abrBandWidthFactor: 0.9 },
    };
    const plan = planPromotion({ decision: ship, definition, current, alreadyPromoted: false, nowMs: NOW });
    if (plan.kind !== 'promote') throw new Error(plan.reason);
    expect(plan.doc.version).toBe(5);
    expect(plan.doc.previousVersion).toBe(4);
    expect(plan.doc.knobs).toEqual({ ...EMPTY_KNOBS, maxBufferLength: 20, abrBandWidthFactor: 0.8 });
    expect(plan.audit.knobsBefore).toEqual(current.knobs);
  });

  it.each([
    ['a decision to continue', { ...ship, decision: 'continue', cell: null }, false, /decision is continue/],
    [
      'keeping the control',
      { ...ship, decision: 'keep-control', cell: null },
      false,
      /decision is keep-control/,
    ],
    ['shipping the control cell', { ...ship, cell: 'control' }, false, /is the control/],
    ['an unknown cell', { ...ship, cell: 'nope' }, false, /no cell nope/],
    ['a cell promoted before', ship, true, /promoted before/],
  ] as const)('skips %s', (_what, decision, alreadyPromoted, reason) => {
    const plan = planPromotion({ decision, definition, current: undefined, alreadyPromoted, nowMs: NOW });
    expect(plan.kind).toBe('skip');
    if (plan.kind === 'skip') expect(plan.reason).toMatch(reason);
  });

  it('skips an experiment without a definition', () => {
    const plan = planPromotion({
      decision: ship,
      definition: undefined,
      current: undefined,
      alreadyPromoted: false,
      nowMs: NOW,
    });
    expect(plan).toEqual({ kind: 'skip', reason: 'abr-bandwidth-factor: no such experiment definition' });
  });

  it('names scopes cohort:<key>', () => {
    expect(cohortScope('abr-bandwidth-factor')).toBe('cohort:abr-bandwidth-factor');
  });
});

describe('planRollback', () => {
  it('publishes a new version with the knobs of the version the promotion replaced', () => {
    const current = promoted();
    expect(defaultRollbackTarget(current)).toBe(0);
    const { doc, audit } = planRollback({
      current,
      target: { version: 0, knobs: EMPTY_KNOBS },
      reason: 'guardrail avgBitrateKbps breached',
      actor: ACTORS.guardrail,
      nowMs: NOW + 1_000,
      metrics: { 'avgBitrateKbps.after': 2_900 },
    });
    expect(doc).toMatchObject({
      scope: current.scope,
      version: 2,
      previousVersion: 1,
      action: 'rollback',
      knobs: EMPTY_KNOBS,
      targeting: current.targeting,
      evidence: {
        experimentKey: 'abr-bandwidth-factor',
        cell: 'headroom-0-8',
        metrics: { 'avgBitrateKbps.after': 2_900 },
      },
    });
    expect(doc.evidence.reason).toBe(
      'rollback of cohort:abr-bandwidth-factor to the knobs of v0 (all inherited), undoing v1 (abrBandWidthFactor=0.8): guardrail avgBitrateKbps breached',
    );
    expect(audit).toMatchObject({
      action: 'rollback',
      fromVersion: 1,
      toVersion: 2,
      knobsBefore: current.knobs,
      knobsAfter: EMPTY_KNOBS,
      actor: ACTORS.guardrail,
      evidence: { restoredVersion: 0 },
    });
  });

  it('refuses a target that is not earlier, or that changes nothing', () => {
    const current = promoted();
    expect(() =>
      planRollback({
        current,
        target: { version: 1, knobs: EMPTY_KNOBS },
        reason: 'x',
        actor: 'cli:me',
        nowMs: NOW,
      }),
    ).toThrow(/must be an earlier version/);
    expect(() =>
      planRollback({
        current,
        target: { version: 0, knobs: current.knobs },
        reason: 'x',
        actor: 'cli:me',
        nowMs: NOW,
      }),
    ).toThrow(/nothing to roll back/);
  });

  it('undoes only promotions by default', () => {
    const { doc } = planRollback({
      current: promoted(),
      target: { version: 0, knobs: EMPTY_KNOBS },
      reason: 'x',
      actor: 'cli:me',
      nowMs: NOW,
    });
    expect(() => defaultRollbackTarget(doc)).toThrow(/is a rollback, not a promotion; pass --to-version/);
  });
});

describe('observedAudit', () => {
  it('records a version written elsewhere from what the document says', () => {
    const doc = promoted();
    expect(observedAudit(doc, undefined, NOW)).toMatchObject({
      scope: doc.scope,
      action: 'promote',
      fromVersion: 0,
      toVersion: 1,
      knobsBefore: EMPTY_KNOBS,
      knobsAfter: doc.knobs,
      actor: ACTORS.observed,
      sourceRank: 0,
      evidence: { knobsBeforeKnown: false },
    });
  });
});
