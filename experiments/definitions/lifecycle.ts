/**
 * The lifecycle of an experiment across revisions of its file: which status changes are
 * allowed (vocabulary.ts STATUS_TRANSITIONS) and which fields are frozen once it has left
 * draft. The control plane calls `checkChange` when it reloads definitions; a refused
 * change keeps the previous revision running.
 */
import { canonicalJson } from './digest.ts';
import type { RuleIssue } from './rules.ts';
import type { ExperimentDefinition } from './schema.ts';
import { type ExperimentStatus, STATUS_TRANSITIONS } from './vocabulary.ts';

export function canTransition(from: ExperimentStatus, to: ExperimentStatus): boolean {
  return from === to || STATUS_TRANSITIONS[from].includes(to);
}

/**
 * Fields that decide who is in which cell, or what the test is, frozen once the experiment
 * has run: changing them mid-flight would mix units assigned under two rules, or pick the
 * test after seeing data. `trafficShare` and `targeting` stay editable: ramping up only
 * adds units (the traffic hash is separate from the cell hash) and an emergency ramp-down
 * must stay possible; the definition digest in each allocation records the revision.
 */
const FROZEN_AFTER_DRAFT = ['unit', 'seed', 'hashVersion', 'namespace', 'cells', 'analysis'] as const;

/** Issues with replacing `previous` by `next` (same key). Empty when the change is allowed. */
export function checkChange(previous: ExperimentDefinition, next: ExperimentDefinition): RuleIssue[] {
  const issues: RuleIssue[] = [];
  if (previous.key !== next.key) {
    issues.push({ path: ['key'], reason: `a revision keeps its key; was "${previous.key}"` });
    return issues;
  }
  if (!canTransition(previous.status, next.status)) {
    const allowed = STATUS_TRANSITIONS[previous.status];
    issues.push({
      path: ['status'],
      reason: `cannot go from ${previous.status} to ${next.status}; from ${previous.status}: ${allowed.length > 0 ? allowed.join(', ') : 'none (final)'}`,
    });
  }
  if (previous.status === 'draft') return issues;
  for (const field of FROZEN_AFTER_DRAFT) {
    if (canonicalJson(previous[field]) !== canonicalJson(next[field])) {
      issues.push({
        path: [field],
        reason: `cannot change once the experiment has run (status was ${previous.status}); start a new experiment with a new key and seed`,
      });
    }
  }
  if (canonicalJson(previous.metrics.primary) !== canonicalJson(next.metrics.primary)) {
    issues.push({
      path: ['metrics', 'primary'],
      reason: `the primary metric cannot change once the experiment has run (status was ${previous.status})`,
    });
  }
  return issues;
}
