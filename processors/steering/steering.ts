/**
 * From QoE windows to steering documents. Pure: `nextSteering(state, windows, params)`
 * steps every (scope, OCA) health tracker through each newly closed window, and returns the
 * documents to publish (only for scopes where a state or the pathway priority changed) and
 * the change records for `steering_changes`.
 *
 * Scopes, as the control plane reads them (control-plane/plan/steering-view.ts): `global`,
 * `isp:<isp>`, `region:<region>`; a viewer's OCA health comes from the most specific
 * document that mentions the OCA.
 * - Each scope judges its OCAs on its own traffic against the rest of its own fleet (an
 *   ISP's viewers reach OCAs over that ISP's paths; a peering problem shows only there).
 *   When the rest of the scope's fleet is too small to compare with, the rest of the global
 *   fleet in the same window is the baseline.
 * - A narrower scope lists only OCAs it has seen evidence for, and each at the WORSE of its
 *   local state and the global one: a local "healthy" built on a trickle of sessions must
 *   not override a global "degraded" for that ISP's viewers, while a local problem still
 *   shows where only that scope sees it. A global change therefore re-publishes the narrower
 *   documents it affects.
 *
 * Pathway priority per scope: healthy before degraded before drained, then by score, then by
 * OCA id (stable). Proximity is the control plane's business; this orders by health only.
 */
import type { OcaHealth, OcaState, SteeringConfig } from '../../schemas/generated/steering-config.ts';
import {
  assessWindow,
  combineAssessments,
  type HealthParams,
  newTracker,
  type OcaTracker,
  type Signal,
  stepTracker,
  type Transition,
  type WindowAssessment,
  type WindowSums,
} from './health.ts';
import {
  assessSegments,
  type SegmentCell,
  type SegmentComparison,
  type SegmentParams,
  segmentComparisons,
} from './segment-health.ts';

export const GLOBAL_SCOPE = 'global';

/** One OCA in one scope and window, with the rest of the scope's fleet in that window. */
export interface ScopeOcaWindow {
  readonly scope: string;
  readonly ocaId: string;
  readonly own: WindowSums;
  /** The scope's fleet in the same window without this OCA. */
  readonly rest: WindowSums;
}

export interface WindowObservation {
  /** Epoch ms. */
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly rows: readonly ScopeOcaWindow[];
  /**
   * Segment-level evidence of the same window (segment-health.ts): per ISP, region and OCA.
   * Absent: the window is judged on QoE windows alone.
   */
  readonly segmentCells?: readonly SegmentCell[];
}

export interface SteeringInput {
  /** Stamped on documents and change records. */
  readonly nowMs: number;
  /** Closed windows in time order; those at or before `processedThrough` are skipped. */
  readonly windows: readonly WindowObservation[];
}

export interface SteeringParams {
  readonly health: HealthParams;
  readonly ttlSec: number;
  /** A healthy OCA without evidence for this many windows is dropped from its scope. */
  readonly forgetAfterWindows: number;
  /** The segment-level model; without it segment cells are ignored. */
  readonly segments?: SegmentParams;
}

export interface ScopeState {
  /** Version of the last document published for the scope; 0 before the first. */
  readonly version: number;
  readonly trackers: Readonly<Record<string, OcaTracker>>;
  readonly published: SteeringConfig | null;
}

export interface SteeringState {
  /** Start (epoch ms) of the last window processed; null before the first. */
  readonly processedThrough: number | null;
  readonly scopes: Readonly<Record<string, ScopeState>>;
}

export type ChangeKind = 'initial' | 'state' | 'priority';

/** One row of `steering_changes`. */
export interface SteeringChange {
  readonly changedAt: number;
  readonly scope: string;
  readonly version: number;
  readonly kind: ChangeKind;
  /** '' for a document-level change (initial, priority). */
  readonly ocaId: string;
  readonly fromState: OcaState | '';
  readonly toState: OcaState | '';
  readonly score: number;
  readonly reason: string;
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly pathwayPriority: readonly string[];
  readonly evidence: Readonly<Record<string, unknown>>;
}

export interface SteeringStep {
  readonly state: SteeringState;
  /** Documents to publish, in order (a scope may appear more than once in a catch-up). */
  readonly docs: readonly SteeringConfig[];
  readonly changes: readonly SteeringChange[];
}

export const EMPTY_STEERING_STATE: SteeringState = Object.freeze({ processedThrough: null, scopes: {} });

const STATE_RANK: Readonly<Record<OcaState, number>> = { healthy: 0, degraded: 1, drained: 2 };

const worse = (a: OcaState, b: OcaState): OcaState => (STATE_RANK[a] >= STATE_RANK[b] ? a : b);

/** Healthy first, then degraded, drained last; by score; then by id so ties never reorder. */
export function rankOcas(ocas: readonly Pick<OcaHealth, 'ocaId' | 'state' | 'score'>[]): string[] {
  return [...ocas]
    .sort(
      (a, b) =>
        STATE_RANK[a.state] - STATE_RANK[b.state] ||
        b.score - a.score ||
        (a.ocaId < b.ocaId ? -1 : a.ocaId > b.ocaId ? 1 : 0),
    )
    .map((o) => o.ocaId);
}

function signalValue(a: WindowAssessment | undefined, metric: Signal['metric']): number | null {
  return a?.signals.find((s) => s.metric === metric)?.value ?? null;
}

interface Effective {
  readonly health: OcaHealth;
  /** The tracker (local or global) whose state is in force, and its scope. */
  readonly from: 'local' | 'global';
}

function effectiveHealth(ocaId: string, local: OcaTracker, global: OcaTracker | undefined): Effective {
  const state = global === undefined ? local.state : worse(local.state, global.state);
  const from = global !== undefined && state !== local.state ? 'global' : 'local';
  const ruling = from === 'global' ? (global as OcaTracker) : local;
  const a = local.lastEvidence?.assessment;
  return {
    from,
    health: {
      ocaId,
      state,
      score: global === undefined ? local.score : Math.min(local.score, global.score),
      sessions: a?.sessions ?? 0,
      rebufferRatio: signalValue(a, 'rebufferRatio'),
      vsfRate: signalValue(a, 'vsfRate'),
      startupP90Ms: signalValue(a, 'startupP90Ms'),
      // Segment throughput, attributed per segment, where the window had it.
      throughputKbps: signalValue(a, 'segmentThroughputKbps') ?? signalValue(a, 'throughputKbps'),
      since: ruling.since,
    },
  };
}

function signalEvidence(a: WindowAssessment | undefined): Record<string, unknown> {
  if (a === undefined) return {};
  return {
    level: a.level,
    sessions: a.sessions,
    signals: a.signals.map((s) => ({
      metric: s.metric,
      value: s.value,
      baseline: s.baseline,
      level: s.level,
      lowerBound: s.lowerBound,
      enterThreshold: s.enterThreshold,
      n: s.n,
    })),
  };
}

/** Steps every tracker through the new windows and returns what to publish. */
export function nextSteering(
  prev: SteeringState,
  input: SteeringInput,
  params: SteeringParams,
): SteeringStep {
  let processedThrough = prev.processedThrough;
  const scopes: Record<string, ScopeState> = { ...prev.scopes };
  const docs: SteeringConfig[] = [];
  const changes: SteeringChange[] = [];
  const health = params.health;

  for (const window of input.windows) {
    if (processedThrough !== null && window.windowStart <= processedThrough) continue;
    processedThrough = window.windowStart;
    const span = { start: window.windowStart, end: window.windowEnd };

    const rowsByScope = new Map<string, Map<string, ScopeOcaWindow>>();
    for (const row of window.rows) {
      let inScope = rowsByScope.get(row.scope);
      if (!inScope) {
        inScope = new Map();
        rowsByScope.set(row.scope, inScope);
      }
      inScope.set(row.ocaId, row);
    }
    const globalRows = rowsByScope.get(GLOBAL_SCOPE);
    const segmentsByScope = new Map<string, Map<string, SegmentComparison>>();
    if (params.segments !== undefined) {
      for (const c of segmentComparisons(window.segmentCells ?? [])) {
        let inScope = segmentsByScope.get(c.scope);
        if (!inScope) {
          inScope = new Map();
          segmentsByScope.set(c.scope, inScope);
        }
        inScope.set(c.ocaId, c);
      }
    }

    // 1. Step every tracker of every scope through this window.
    const transitions = new Map<string, Map<string, Transition>>();
    const scopeNames = new Set([...Object.keys(scopes), ...rowsByScope.keys(), ...segmentsByScope.keys()]);
    for (const scope of scopeNames) {
      const previous = scopes[scope] ?? { version: 0, trackers: {}, published: null };
      const rows = rowsByScope.get(scope) ?? new Map<string, ScopeOcaWindow>();
      const trackers: Record<string, OcaTracker> = {};
      const segments = segmentsByScope.get(scope);
      const ocaIds = new Set([
        ...Object.keys(previous.trackers),
        ...rows.keys(),
        ...(segments?.keys() ?? []),
      ]);
      for (const ocaId of ocaIds) {
        const row = rows.get(ocaId);
        let sessionLevel: WindowAssessment;
        if (row === undefined) {
          sessionLevel = { level: 'none', score: 1, signals: [], sessions: 0, note: 'no sessions' };
        } else {
          const fallback = scope === GLOBAL_SCOPE ? undefined : globalRows?.get(ocaId)?.rest;
          const baseline =
            row.rest.sessions < health.minSessions && fallback !== undefined ? fallback : row.rest;
          sessionLevel = assessWindow(row.own, baseline, health);
        }
        const comparison = segments?.get(ocaId);
        const assessment =
          comparison === undefined || params.segments === undefined
            ? sessionLevel
            : combineAssessments(sessionLevel, assessSegments(comparison, params.segments, health.alpha));
        const current = previous.trackers[ocaId];
        if (current === undefined && assessment.level === 'none') continue; // nothing known yet
        const step = stepTracker(
          current ?? newTracker('healthy', span.start),
          assessment,
          span,
          health,
          ocaId,
        );
        if (step.transition) {
          let inScope = transitions.get(scope);
          if (!inScope) {
            inScope = new Map();
            transitions.set(scope, inScope);
          }
          inScope.set(ocaId, step.transition);
        }
        const forget =
          step.tracker.state === 'healthy' && step.tracker.quietWindows >= params.forgetAfterWindows;
        if (!forget) trackers[ocaId] = step.tracker;
      }
      scopes[scope] = { ...previous, trackers };
    }

    // 2. Build each scope's document and publish the ones that changed.
    const globalTrackers = scopes[GLOBAL_SCOPE]?.trackers ?? {};
    for (const scope of [...scopeNames].sort()) {
      const current = scopes[scope] as ScopeState;
      const isGlobal = scope === GLOBAL_SCOPE;
      const effective = Object.keys(current.trackers)
        .sort()
        .map((ocaId) =>
          effectiveHealth(
            ocaId,
            current.trackers[ocaId] as OcaTracker,
            isGlobal ? undefined : globalTrackers[ocaId],
          ),
        );
      const ocas = effective.map((e) => e.health);
      const priority = rankOcas(ocas);
      const before = current.published;
      const beforeStates = new Map((before?.ocas ?? []).map((o) => [o.ocaId, o.state]));
      const stateChanged = ocas.filter((o) => beforeStates.get(o.ocaId) !== o.state);
      const removed = [...beforeStates.keys()].filter((id) => !ocas.some((o) => o.ocaId === id));
      const priorityChanged =
        before === null || before.pathwayPriority.join('\u0000') !== priority.join('\u0000');
      if (before === null && ocas.length === 0) continue;
      if (stateChanged.length === 0 && removed.length === 0 && !priorityChanged) continue;

      const version = current.version + 1;
      const reasons: string[] = [];
      const rows: SteeringChange[] = [];
      let evidenceStart = span.start;
      const base = {
        changedAt: input.nowMs,
        scope,
        version,
        windowEnd: span.end,
        pathwayPriority: priority,
      };
      if (before === null) {
        const summary = ocas.map((o) => `${o.ocaId} ${o.state}`).join(', ');
        const reason = `first health document for ${scope}: ${summary}`;
        reasons.push(reason);
        rows.push({
          ...base,
          kind: 'initial',
          ocaId: '',
          fromState: '',
          toState: '',
          score: 1,
          reason,
          windowStart: span.start,
          evidence: {},
        });
      }
      for (const e of effective) {
        const o = e.health;
        const was = beforeStates.get(o.ocaId);
        if (was === undefined || was === o.state) continue;
        const local = transitions.get(scope)?.get(o.ocaId);
        const fromGlobal = transitions.get(GLOBAL_SCOPE)?.get(o.ocaId);
        const transition = e.from === 'global' || local === undefined ? (fromGlobal ?? local) : local;
        const reason =
          transition === undefined
            ? `${o.ocaId} ${o.state} (was ${was})`
            : !isGlobal && transition === fromGlobal && transition !== local
              ? `${transition.reason} [global]`
              : transition.reason;
        if (transition !== undefined) evidenceStart = Math.min(evidenceStart, transition.streakStart);
        reasons.push(reason);
        const tracker = (
          e.from === 'global' ? globalTrackers[o.ocaId] : current.trackers[o.ocaId]
        ) as OcaTracker;
        rows.push({
          ...base,
          kind: 'state',
          ocaId: o.ocaId,
          fromState: was,
          toState: o.state,
          score: o.score,
          reason,
          windowStart: transition?.streakStart ?? span.start,
          evidence: {
            ...signalEvidence(tracker.lastEvidence?.assessment),
            windows: transition?.windows ?? 0,
          },
        });
      }
      if (before !== null && rows.length === 0) {
        const added = ocas.filter((o) => !beforeStates.has(o.ocaId)).map((o) => `+${o.ocaId}`);
        const gone = removed.map((id) => `-${id}`);
        const what = [...added, ...gone];
        const reason =
          what.length > 0
            ? `OCAs in ${scope} changed: ${what.join(' ')}`
            : `pathway priority reordered by score: ${priority.join(' > ')}`;
        reasons.push(reason);
        rows.push({
          ...base,
          kind: 'priority',
          ocaId: '',
          fromState: '',
          toState: '',
          score: 1,
          reason,
          windowStart: span.start,
          evidence: { before: before.pathwayPriority },
        });
      }

      const doc: SteeringConfig = {
        scope,
        version,
        generatedAt: input.nowMs,
        ttlSec: params.ttlSec,
        ocas,
        pathwayPriority: priority,
        evidence: {
          windowStart: evidenceStart,
          windowEnd: span.end,
          reason: reasons.join('; '),
          experimentKey: null,
        },
      };
      docs.push(doc);
      changes.push(...rows);
      scopes[scope] = { ...current, version, published: doc };
    }
  }
  return { state: { processedThrough, scopes }, docs, changes };
}

/**
 * The state to resume from after a restart: the latest published document of each scope
 * (versions stay monotonic; OCAs keep their states and `since`). Streaks start afresh, and a
 * narrower scope's local trackers start at the state it published (the worse of local and
 * global then), which errs toward caution.
 */
export function steeringStateFromDocs(docs: readonly SteeringConfig[]): SteeringState {
  const scopes: Record<string, ScopeState> = {};
  for (const doc of docs) {
    const trackers: Record<string, OcaTracker> = {};
    for (const o of doc.ocas) trackers[o.ocaId] = newTracker(o.state, o.since, o.score);
    scopes[doc.scope] = { version: doc.version, trackers, published: doc };
  }
  return { processedThrough: null, scopes };
}
