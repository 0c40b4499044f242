/**
 * Promotion and rollback decisions for config.abr. Pure: documents and audit records out,
 * nothing published here.
 *
 * Scope convention (read by control-plane/plan/abr.ts; see README.md): a shipped experiment's
 * knobs go to `cohort:<experimentKey>`, with the experiment's targeting carried in the
 * document. One scope per experiment keeps each promotion, its guardrail watch and its
 * rollback apart from every other config, and the control plane applies a cohort document
 * to exactly the viewers its targeting matches.
 *
 * History is never rewritten: a rollback is a new version whose knobs equal an earlier
 * version's, and every version has an audit record.
 */
import { PlayloopError } from '../../core/errors.ts';
import type { ExperimentDefinition } from '../../experiments/definitions/schema.ts';
import type { AbrConfig, AbrKnobs, Cohort } from '../../schemas/generated/abr-config.ts';
import type { ExperimentDecision } from './decisions.ts';
import { describeKnobs, EMPTY_KNOBS, knobsEqual, knobsFromOverrides, overlayKnobs } from './knobs.ts';

/** The `config` column of config_audit for these documents. */
export const ABR_AUDIT_CONFIG = 'abr';

export const ACTORS = {
  promotion: 'abr-tuning',
  guardrail: 'abr-tuning/guardrail',
  observed: 'observed-on-topic',
} as const;

export function cohortScope(experimentKey: string): string {
  return `cohort:${experimentKey}`;
}

/** One row of config_audit. */
export interface AuditRecord {
  readonly recordedAt: number;
  readonly config: string;
  readonly scope: string;
  readonly action: AbrConfig['action'];
  /** 0: no document before. */
  readonly fromVersion: number;
  readonly toVersion: number;
  readonly knobsBefore: AbrKnobs;
  readonly knobsAfter: AbrKnobs;
  readonly targeting: Cohort;
  readonly experimentKey: string;
  readonly cell: string;
  readonly reason: string;
  readonly evidence: Readonly<Record<string, unknown>>;
  readonly actor: string;
  /** 1: written by the process that published the version; 0: recorded by an observer. */
  readonly sourceRank: 0 | 1;
}

export type PromotionPlan =
  | { readonly kind: 'promote'; readonly doc: AbrConfig; readonly audit: AuditRecord }
  | { readonly kind: 'skip'; readonly reason: string };

export interface PromotionInput {
  readonly decision: ExperimentDecision;
  readonly definition: ExperimentDefinition | undefined;
  /** The scope's current document, if any. */
  readonly current: AbrConfig | undefined;
  /** This experiment's cell was promoted before (even if rolled back since): never again. */
  readonly alreadyPromoted: boolean;
  readonly nowMs: number;
}

function copyTargeting(t: {
  deviceClasses: readonly string[];
  countries: readonly string[];
  isps: readonly string[];
}): Cohort {
  return { deviceClasses: [...t.deviceClasses], countries: [...t.countries], isps: [...t.isps] };
}

/** Whether to promote a decision, and the document and audit record if so. */
export function planPromotion(input: PromotionInput): PromotionPlan {
  const { decision, definition, current } = input;
  const key = decision.experimentKey;
  if (decision.decision !== 'ship' || decision.cell === null) {
    return { kind: 'skip', reason: `${key}: decision is ${decision.decision}` };
  }
  if (definition === undefined) return { kind: 'skip', reason: `${key}: no such experiment definition` };
  const cell = definition.cells.find((c) => c.name === decision.cell);
  if (cell === undefined) return { kind: 'skip', reason: `${key}: no cell ${decision.cell}` };
  if (cell.control)
    return { kind: 'skip', reason: `${key}: ${cell.name} is the control; nothing to promote` };
  if (cell.config.abr === undefined) {
    return { kind: 'skip', reason: `${key}: cell ${cell.name} overrides no ABR knob` };
  }
  if (input.alreadyPromoted) {
    return { kind: 'skip', reason: `${key}: cell ${cell.name} was promoted before` };
  }
  const scope = cohortScope(key);
  const before = current?.knobs ?? EMPTY_KNOBS;
  const after = overlayKnobs(before, knobsFromOverrides(cell.config.abr));
  const fromVersion = current?.version ?? 0;
  const version = fromVersion + 1;
  const reason =
    `experiment ${key} shipped cell ${cell.name}: ${describeKnobs(knobsFromOverrides(cell.config.abr))} ` +
    `for ${describeCohort(definition.targeting)}` +
    (decision.reasons.length > 0 ? `. ${decision.reasons.join(' ')}` : '');
  const targeting = copyTargeting(definition.targeting);
  const doc: AbrConfig = {
    scope,
    version,
    generatedAt: input.nowMs,
    knobs: after,
    targeting,
    action: 'promote',
    previousVersion: current?.version ?? null,
    evidence: {
      reason,
      experimentKey: key,
      cell: cell.name,
      windowStart: decision.windowStart,
      windowEnd: decision.windowEnd,
      metrics: { ...decision.metrics },
    },
  };
  return {
    kind: 'promote',
    doc,
    audit: {
      recordedAt: input.nowMs,
      config: ABR_AUDIT_CONFIG,
      scope,
      action: 'promote',
      fromVersion,
      toVersion: version,
      knobsBefore: before,
      knobsAfter: after,
      targeting,
      experimentKey: key,
      cell: cell.name,
      reason,
      evidence: {
        decision: decision.decision,
        reasons: decision.reasons,
        decidedAt: decision.decidedAt,
        metrics: decision.metrics,
      },
      actor: ACTORS.promotion,
      sourceRank: 1,
    },
  };
}

export function describeCohort(t: {
  deviceClasses: readonly string[];
  countries: readonly string[];
  isps: readonly string[];
}): string {
  const parts = [
    t.deviceClasses.length > 0 ? `devices ${t.deviceClasses.join('/')}` : '',
    t.countries.length > 0 ? `countries ${t.countries.join('/')}` : '',
    t.isps.length > 0 ? `ISPs ${t.isps.join('/')}` : '',
  ].filter((p) => p !== '');
  return parts.length === 0 ? 'all viewers' : parts.join(', ');
}

/**
 * The version a plain `rollback` restores: the one the current promotion replaced. Only a
 * promotion is undone by default; anything else needs an explicit target version.
 */
export function defaultRollbackTarget(current: AbrConfig): number {
  if (current.action !== 'promote') {
    throw new PlayloopError(
      'USAGE',
      `${current.scope} v${current.version} is a ${current.action}, not a promotion; pass --to-version to choose the version to restore`,
    );
  }
  return current.previousVersion ?? 0;
}

export interface RollbackInput {
  readonly current: AbrConfig;
  /** The version whose knobs come back; 0 means "before the first document" (all inherited). */
  readonly target: { readonly version: number; readonly knobs: AbrKnobs };
  readonly reason: string;
  readonly actor: string;
  readonly nowMs: number;
  /** Numbers behind an automatic rollback (guardrail values), for the evidence. */
  readonly metrics?: Readonly<Record<string, number>>;
  readonly evidence?: Readonly<Record<string, unknown>>;
  readonly sourceRank?: 0 | 1;
}

/** A new version with the target's knobs. Throws USAGE when there is nothing to undo. */
export function planRollback(input: RollbackInput): { doc: AbrConfig; audit: AuditRecord } {
  const { current, target } = input;
  if (!(Number.isInteger(target.version) && target.version >= 0 && target.version < current.version)) {
    throw new PlayloopError(
      'USAGE',
      `cannot roll ${current.scope} back to v${target.version}: it must be an earlier version than the current v${current.version}`,
    );
  }
  if (knobsEqual(target.knobs, current.knobs)) {
    throw new PlayloopError(
      'USAGE',
      `${current.scope} v${current.version} already has the knobs of v${target.version} (${describeKnobs(target.knobs)}); nothing to roll back`,
    );
  }
  const version = current.version + 1;
  const reason =
    `rollback of ${current.scope} to the knobs of v${target.version} (${describeKnobs(target.knobs)}), ` +
    `undoing v${current.version} (${describeKnobs(current.knobs)}): ${input.reason}`;
  const doc: AbrConfig = {
    scope: current.scope,
    version,
    generatedAt: input.nowMs,
    knobs: { ...target.knobs },
    targeting: copyTargeting(current.targeting),
    action: 'rollback',
    previousVersion: current.version,
    evidence: {
      reason,
      experimentKey: current.evidence.experimentKey,
      cell: current.evidence.cell,
      windowStart: null,
      windowEnd: null,
      metrics: { ...(input.metrics ?? {}) },
    },
  };
  return {
    doc,
    audit: {
      recordedAt: input.nowMs,
      config: ABR_AUDIT_CONFIG,
      scope: current.scope,
      action: 'rollback',
      fromVersion: current.version,
      toVersion: version,
      knobsBefore: current.knobs,
      knobsAfter: doc.knobs,
      targeting: doc.targeting,
      experimentKey: current.evidence.experimentKey ?? '',
      cell: current.evidence.cell ?? '',
      reason,
      evidence: { restoredVersion: target.version, ...(input.evidence ?? {}) },
      actor: input.actor,
      sourceRank: input.sourceRank ?? 1,
    },
  };
}

/**
 * The audit record of a version seen on the topic that no audit row covers (written by
 * another process that could not reach ClickHouse): what the document itself says.
 */
export function observedAudit(doc: AbrConfig, before: AbrKnobs | undefined, nowMs: number): AuditRecord {
  return {
    recordedAt: nowMs,
    config: ABR_AUDIT_CONFIG,
    scope: doc.scope,
    action: doc.action,
    fromVersion: doc.previousVersion ?? 0,
    toVersion: doc.version,
    knobsBefore: before ?? EMPTY_KNOBS,
    knobsAfter: doc.knobs,
    targeting: doc.targeting,
    experimentKey: doc.evidence.experimentKey ?? '',
    cell: doc.evidence.cell ?? '',
    reason: doc.evidence.reason,
    evidence: { metrics: doc.evidence.metrics, knobsBeforeKnown: before !== undefined },
    actor: ACTORS.observed,
    sourceRank: 0,
  };
}
