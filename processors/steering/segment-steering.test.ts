/**
 * The steering model with segment-level evidence, on a simulated fleet: segment requests
 * drawn per (ISP, OCA) cell with a slow and a fast ISP and OCAs whose ISP mixes differ
 * (testing.ts simulateSegments), plus session-level QoE windows (simulateWindow), through
 * the pure nextSteering.
 */
import { describe, expect, it } from 'vitest';
import type { OcaState } from '../../schemas/generated/steering-config.ts';
import { DEFAULT_HEALTH_PARAMS, type WindowSums } from './health.ts';
import { addSegments, DEFAULT_SEGMENT_PARAMS, type SegmentCell } from './segment-health.ts';
import {
  EMPTY_STEERING_STATE,
  nextSteering,
  type ScopeOcaWindow,
  type SteeringChange,
  type SteeringParams,
  type WindowObservation,
} from './steering.ts';
import {
  CONGESTED_SEGMENTS,
  createRng,
  ERRORING_SEGMENTS,
  HEALTHY_PATH,
  HEALTHY_SEGMENTS,
  type PathQuality,
  type SegmentPathQuality,
  sessionCount,
  simulateSegments,
  simulateWindow,
  sumAll,
} from './testing.ts';

const W = 5_000;
const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const PARAMS: SteeringParams = {
  health: DEFAULT_HEALTH_PARAMS,
  segments: DEFAULT_SEGMENT_PARAMS,
  ttlSec: 2,
  forgetAfterWindows: 360,
};
const ENTER = DEFAULT_HEALTH_PARAMS.enterWindows;

interface Cell {
  readonly isp: 'AS1' | 'AS2';
  readonly ocaId: string;
  /** Sessions downloading in a window (each makes 2-3 requests: one per 2 s segment). */
  readonly downloading: readonly [number, number];
  /** Sessions ending per window. */
  readonly sessions: readonly [number, number];
}

/** AS2 viewers are on slow access networks (0.35x); oca-a serves mostly AS2, oca-b mostly AS1. */
const ACCESS = { AS1: 1, AS2: 0.35 } as const;
const FLEET: readonly Cell[] = [
  { isp: 'AS1', ocaId: 'oca-a', downloading: [10, 25], sessions: [8, 14] },
  { isp: 'AS1', ocaId: 'oca-b', downloading: [50, 80], sessions: [25, 40] },
  { isp: 'AS1', ocaId: 'oca-c', downloading: [25, 45], sessions: [15, 25] },
  { isp: 'AS2', ocaId: 'oca-a', downloading: [50, 80], sessions: [25, 40] },
  { isp: 'AS2', ocaId: 'oca-b', downloading: [10, 25], sessions: [8, 14] },
  { isp: 'AS2', ocaId: 'oca-c', downloading: [25, 45], sessions: [15, 25] },
];
const PER_SESSION: readonly [number, number] = [2, 3];

interface Conditions {
  segments(cell: Cell, w: number): SegmentPathQuality;
  sessions(cell: Cell, w: number): PathQuality;
  /** Extra healthy sessions a cell gets in window w (traffic failed over to it). */
  extraSessions?(cell: Cell, w: number): number;
}

function observe(rng: ReturnType<typeof createRng>, w: number, c: Conditions): WindowObservation {
  const segmentCells: SegmentCell[] = [];
  const sessionSums: Array<{ cell: Cell; sums: WindowSums }> = [];
  for (const cell of FLEET) {
    const n = sessionCount(rng, cell.downloading[0], cell.downloading[1]);
    const drawn = simulateSegments(rng, n, PER_SESSION, c.segments(cell, w), ACCESS[cell.isp]);
    const extra = c.extraSessions?.(cell, w) ?? 0;
    const moved = simulateSegments(rng, extra, PER_SESSION, HEALTHY_SEGMENTS, ACCESS[cell.isp]);
    segmentCells.push({ isp: cell.isp, region: 'eu', ocaId: cell.ocaId, ...addSegments(drawn, moved) });
    const sessions = sessionCount(rng, cell.sessions[0], cell.sessions[1]);
    sessionSums.push({ cell, sums: simulateWindow(rng, sessions, c.sessions(cell, w)) });
  }
  const rows: ScopeOcaWindow[] = [];
  const scopes: Array<(cell: Cell) => string> = [() => 'global', (x) => `isp:${x.isp}`, () => 'region:eu'];
  for (const scopeOf of scopes) {
    const byScope = new Map<string, Map<string, WindowSums[]>>();
    for (const { cell, sums } of sessionSums) {
      const scope = scopeOf(cell);
      const inScope = byScope.get(scope) ?? new Map<string, WindowSums[]>();
      byScope.set(scope, inScope);
      inScope.set(cell.ocaId, [...(inScope.get(cell.ocaId) ?? []), sums]);
    }
    for (const [scope, byOca] of byScope) {
      for (const [ocaId, own] of byOca) {
        const rest = [...byOca].filter(([id]) => id !== ocaId).flatMap(([, s]) => s);
        rows.push({ scope, ocaId, own: sumAll(own), rest: sumAll(rest) });
      }
    }
  }
  return { windowStart: T0 + w * W, windowEnd: T0 + (w + 1) * W, rows, segmentCells };
}

interface Sim {
  readonly changes: SteeringChange[];
  /** Window index at which each (scope, OCA) state change was decided. */
  readonly transitions: Array<{ w: number; scope: string; ocaId: string; from: string; to: string }>;
  readonly finalStates: Map<string, OcaState>;
}

function simulate(seed: number, windows: number, c: Conditions, params: SteeringParams = PARAMS): Sim {
  const rng = createRng(seed);
  let state = EMPTY_STEERING_STATE;
  const changes: SteeringChange[] = [];
  const transitions: Sim['transitions'] = [];
  for (let w = 0; w < windows; w++) {
    const step = nextSteering(
      state,
      { nowMs: T0 + (w + 1) * W + 3_000, windows: [observe(rng, w, c)] },
      params,
    );
    state = step.state;
    changes.push(...step.changes);
    for (const ch of step.changes) {
      if (ch.kind === 'state') {
        transitions.push({ w, scope: ch.scope, ocaId: ch.ocaId, from: ch.fromState, to: ch.toState });
      }
    }
  }
  const finalStates = new Map<string, OcaState>();
  for (const [scope, s] of Object.entries(state.scopes)) {
    for (const o of s.published?.ocas ?? []) finalStates.set(`${scope} ${o.ocaId}`, o.state);
  }
  return { changes, transitions, finalStates };
}

const healthy: Conditions = { segments: () => HEALTHY_SEGMENTS, sessions: () => HEALTHY_PATH };

describe('segment evidence: no flapping on noise', () => {
  it('makes zero state changes over 2,000 noisy healthy windows per seed, slow and fast ISPs mixed', () => {
    for (const seed of [1, 2, 3]) {
      const sim = simulate(seed, 2_000, healthy);
      expect(sim.transitions).toEqual([]);
      // Only document membership may change: a thin OCA joins its scope's document once a
      // window gives it enough segments; it is never reordered or moved.
      for (const c of sim.changes.filter((x) => x.kind !== 'initial')) {
        expect(c.reason).toMatch(/^OCAs in \S+ changed: \+oca-\w( \+oca-\w)*$/);
      }
      expect([...sim.finalStates.values()].every((s) => s === 'healthy')).toBe(true);
    }
  });
});

describe('segment evidence: real degradation', () => {
  const onset = 40;

  it('degrades a congested OCA exactly when its enterWindows-th bad window closes, before any session evidence', () => {
    for (const seed of [11, 12, 13, 14, 15]) {
      const sim = simulate(seed, onset + 20, {
        // Sessions still look healthy: they end (and count) only later.
        sessions: () => HEALTHY_PATH,
        segments: (cell, w) => (cell.ocaId === 'oca-b' && w >= onset ? CONGESTED_SEGMENTS : HEALTHY_SEGMENTS),
      });
      const first = sim.transitions.filter((t) => t.ocaId === 'oca-b' && t.scope === 'global');
      expect(first[0]?.w).toBe(onset + ENTER - 1);
      expect(first[0]?.from).toBe('healthy');
      expect(['degraded', 'drained']).toContain(first[0]?.to);
      for (const scope of ['isp:AS1', 'isp:AS2', 'region:eu']) {
        expect(sim.finalStates.get(`${scope} oca-b`)).not.toBe('healthy');
      }
      // Nobody else moved.
      expect(sim.transitions.filter((t) => t.ocaId !== 'oca-b')).toEqual([]);
    }
  });

  it('degrades an OCA that fails requests but answers fast, on its segment failure rate', () => {
    for (const seed of [21, 22, 23, 24, 25]) {
      const sim = simulate(seed, onset + 20, {
        sessions: () => HEALTHY_PATH,
        segments: (cell, w) => (cell.ocaId === 'oca-c' && w >= onset ? ERRORING_SEGMENTS : HEALTHY_SEGMENTS),
      });
      const global = sim.transitions.filter((t) => t.scope === 'global');
      expect(global.map((t) => [t.w, t.ocaId, t.from, t.to])).toEqual([
        [onset + ENTER - 1, 'oca-c', 'healthy', 'degraded'],
      ]);
      const reason = sim.changes.find((c) => c.scope === 'global' && c.kind === 'state')?.reason ?? '';
      expect(reason).toMatch(
        /^oca-c degraded \(was healthy\): segment failure rate .+ vs fleet .+ at 99% confidence/,
      );
    }
  });
});

describe('segment evidence: failover attribution', () => {
  // oca-a fails 60% of its requests from window 30; its viewers retry on oca-b, so oca-b gets
  // their (healthy) requests, and their sessions, which end on oca-b, carry the slow
  // downloads of oca-a in their session throughput.
  const onset = 30;
  const failover: Conditions = {
    segments: (cell, w) =>
      cell.ocaId === 'oca-a' && w >= onset ? { ...HEALTHY_SEGMENTS, failureRate: 0.6 } : HEALTHY_SEGMENTS,
    sessions: (cell, w) =>
      cell.ocaId === 'oca-b' && w >= onset ? { ...HEALTHY_PATH, throughputMedianKbps: 2_000 } : HEALTHY_PATH,
    extraSessions: (cell, w) => (cell.ocaId === 'oca-b' && w >= onset ? (cell.isp === 'AS2' ? 40 : 10) : 0),
  };

  it('degrades the failing OCA and never the one its sessions failed over to', () => {
    for (const seed of [31, 32, 33, 34, 35]) {
      const sim = simulate(seed, onset + 40, failover);
      expect(sim.transitions.filter((t) => t.ocaId === 'oca-b')).toEqual([]);
      expect(sim.finalStates.get('global oca-b')).toBe('healthy');
      expect(sim.finalStates.get('isp:AS2 oca-a')).not.toBe('healthy');
      expect(sim.finalStates.get('global oca-a')).not.toBe('healthy');
    }
  });

  it('(control) the session-level model alone does degrade the failover target', () => {
    const { segments: _segments, ...sessionOnly } = PARAMS;
    const sim = simulate(31, onset + 40, failover, sessionOnly);
    expect(sim.transitions.some((t) => t.ocaId === 'oca-b' && t.to !== 'healthy')).toBe(true);
  });
});
