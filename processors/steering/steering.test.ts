import { describe, expect, it } from 'vitest';
import type { SteeringConfig } from '../../schemas/generated/steering-config.ts';
import { DEFAULT_HEALTH_PARAMS, type WindowSums } from './health.ts';
import {
  EMPTY_STEERING_STATE,
  nextSteering,
  rankOcas,
  type ScopeOcaWindow,
  type SteeringChange,
  type SteeringParams,
  type SteeringState,
  steeringStateFromDocs,
  type WindowObservation,
} from './steering.ts';
import {
  CONGESTED_PATH,
  createRng,
  HEALTHY_PATH,
  type PathQuality,
  sessionCount,
  simulateWindow,
  sumAll,
} from './testing.ts';

const W = 10_000;
const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const PARAMS: SteeringParams = { health: DEFAULT_HEALTH_PARAMS, ttlSec: 10, forgetAfterWindows: 360 };

interface Cell {
  readonly isp: string;
  readonly region: string;
  readonly ocaId: string;
  readonly sessions: readonly [number, number];
}

/** A fleet: per (ISP, OCA) cell, sessions per window; `path` says how each cell's sessions fare. */
function observe(
  rng: ReturnType<typeof createRng>,
  w: number,
  cells: readonly Cell[],
  path: (cell: Cell, w: number) => PathQuality,
): WindowObservation {
  const drawn = cells.map((c) => ({
    cell: c,
    sums: simulateWindow(rng, sessionCount(rng, c.sessions[0], c.sessions[1]), path(c, w)),
  }));
  const rows: ScopeOcaWindow[] = [];
  const scopeOf: Array<[string, (c: Cell) => string]> = [
    ['global', () => 'global'],
    ['isp', (c) => `isp:${c.isp}`],
    ['region', (c) => `region:${c.region}`],
  ];
  for (const [, key] of scopeOf) {
    const byScope = new Map<string, Map<string, WindowSums[]>>();
    for (const d of drawn) {
      const scope = key(d.cell);
      const inScope = byScope.get(scope) ?? new Map<string, WindowSums[]>();
      byScope.set(scope, inScope);
      inScope.set(d.cell.ocaId, [...(inScope.get(d.cell.ocaId) ?? []), d.sums]);
    }
    for (const [scope, byOca] of byScope) {
      for (const [ocaId, own] of byOca) {
        const rest = [...byOca].filter(([id]) => id !== ocaId).flatMap(([, s]) => s);
        rows.push({ scope, ocaId, own: sumAll(own), rest: sumAll(rest) });
      }
    }
  }
  return { windowStart: T0 + w * W, windowEnd: T0 + (w + 1) * W, rows };
}

interface Sim {
  state: SteeringState;
  docs: SteeringConfig[];
  changes: SteeringChange[];
  /** Window index -> docs published after it. */
  byWindow: Map<number, SteeringConfig[]>;
}

function simulate(
  seed: number,
  windows: number,
  cells: readonly Cell[],
  path: (cell: Cell, w: number) => PathQuality,
  start: SteeringState = EMPTY_STEERING_STATE,
  firstWindow = 0,
): Sim {
  const rng = createRng(seed);
  const sim: Sim = { state: start, docs: [], changes: [], byWindow: new Map() };
  for (let w = firstWindow; w < firstWindow + windows; w++) {
    const step = nextSteering(
      sim.state,
      { nowMs: T0 + (w + 1) * W + 5_000, windows: [observe(rng, w, cells, path)] },
      PARAMS,
    );
    sim.state = step.state;
    sim.docs.push(...step.docs);
    sim.changes.push(...step.changes);
    if (step.docs.length > 0) sim.byWindow.set(w, [...step.docs]);
  }
  return sim;
}

const FLEET: readonly Cell[] = [
  { isp: 'AS1', region: 'eu-west', ocaId: 'oca-a', sessions: [60, 100] },
  { isp: 'AS1', region: 'eu-west', ocaId: 'oca-b', sessions: [60, 100] },
  { isp: 'AS1', region: 'eu-west', ocaId: 'oca-c', sessions: [60, 100] },
  { isp: 'AS2', region: 'eu-west', ocaId: 'oca-a', sessions: [20, 30] },
  { isp: 'AS2', region: 'eu-west', ocaId: 'oca-b', sessions: [20, 30] },
  { isp: 'AS2', region: 'eu-west', ocaId: 'oca-c', sessions: [20, 30] },
];

const latest = (docs: readonly SteeringConfig[], scope: string): SteeringConfig | undefined =>
  docs.filter((d) => d.scope === scope).at(-1);

describe('rankOcas', () => {
  it('orders healthy, degraded, drained, then by score, then by id', () => {
    expect(
      rankOcas([
        { ocaId: 'd', state: 'drained', score: 1 },
        { ocaId: 'c', state: 'degraded', score: 0.4 },
        { ocaId: 'b', state: 'healthy', score: 1 },
        { ocaId: 'e', state: 'degraded', score: 0.6 },
        { ocaId: 'a', state: 'healthy', score: 1 },
        { ocaId: 'f', state: 'healthy', score: 0.9 },
      ]),
    ).toEqual(['a', 'b', 'f', 'e', 'c', 'd']);
  });
});

describe('nextSteering', () => {
  it('publishes one first document per scope, then nothing at all for 500 noisy healthy windows', () => {
    const sim = simulate(1, 500, FLEET, () => HEALTHY_PATH);
    expect(sim.byWindow.size).toBe(1);
    const first = sim.byWindow.get(0) ?? [];
    expect(first.map((d) => [d.scope, d.version, d.pathwayPriority])).toEqual([
      ['global', 1, ['oca-a', 'oca-b', 'oca-c']],
      ['isp:AS1', 1, ['oca-a', 'oca-b', 'oca-c']],
      ['isp:AS2', 1, ['oca-a', 'oca-b', 'oca-c']],
      ['region:eu-west', 1, ['oca-a', 'oca-b', 'oca-c']],
    ]);
    expect(first[0]?.evidence.reason).toBe(
      'first health document for global: oca-a healthy, oca-b healthy, oca-c healthy',
    );
    expect(sim.changes.every((c) => c.kind === 'initial')).toBe(true);
  });

  it('steers away from a congested OCA within enterWindows and back after exitWindows, without flapping', () => {
    const onset = 20;
    const end = 50;
    const sim = simulate(2, 400, FLEET, (c, w) =>
      c.ocaId === 'oca-b' && w >= onset && w < end ? CONGESTED_PATH : HEALTHY_PATH,
    );
    const global = sim.docs.filter((d) => d.scope === 'global');
    expect(global.map((d) => d.version)).toEqual([1, 2, 3]);
    expect(global.map((d) => d.pathwayPriority)).toEqual([
      ['oca-a', 'oca-b', 'oca-c'],
      ['oca-a', 'oca-c', 'oca-b'],
      ['oca-a', 'oca-b', 'oca-c'],
    ]);
    // Degraded exactly when the third bad window closes.
    const degradedAt = [...sim.byWindow].find(([, docs]) =>
      docs.some((d) => d.scope === 'global' && d.version === 2),
    )?.[0];
    expect(degradedAt).toBe(onset + DEFAULT_HEALTH_PARAMS.enterWindows - 1);
    const recoveredAt = [...sim.byWindow].find(([, docs]) =>
      docs.some((d) => d.scope === 'global' && d.version === 3),
    )?.[0];
    expect(recoveredAt).toBeGreaterThanOrEqual(end + DEFAULT_HEALTH_PARAMS.exitWindows - 1);
    expect(recoveredAt).toBeLessThanOrEqual(end + DEFAULT_HEALTH_PARAMS.exitWindows + 3);

    const v2 = global[1] as SteeringConfig;
    const b = v2.ocas.find((o) => o.ocaId === 'oca-b');
    expect(b?.state).toBe('degraded');
    expect(b?.since).toBe(T0 + (degradedAt as number) * W + W);
    expect(b?.score).toBeLessThan(1);
    expect(b?.rebufferRatio).toBeGreaterThan(0.05);
    expect(v2.evidence.windowStart).toBe(T0 + onset * W);
    expect(v2.evidence.reason).toMatch(/^oca-b degraded \(was healthy\): .* vs fleet .* for 3 windows$/);

    const stateChanges = sim.changes.filter((c) => c.scope === 'global' && c.kind === 'state');
    expect(stateChanges.map((c) => [c.ocaId, c.fromState, c.toState, c.version])).toEqual([
      ['oca-b', 'healthy', 'degraded', 2],
      ['oca-b', 'degraded', 'healthy', 3],
    ]);
    expect(stateChanges[0]?.evidence).toHaveProperty('signals');
    // Every scope oca-b serves saw it too, once each way.
    for (const scope of ['isp:AS1', 'region:eu-west']) {
      const doc = sim.docs.filter((d) => d.scope === scope);
      expect(doc.map((d) => d.version)).toEqual([1, 2, 3]);
    }
  });

  it('keeps a problem seen only by one ISP in that ISP, and takes global problems into narrower scopes', () => {
    // oca-a is congested for AS2's viewers only (a peering problem); AS2 is a small share of its traffic.
    const sim = simulate(3, 60, FLEET, (c, w) =>
      c.isp === 'AS2' && c.ocaId === 'oca-a' && w >= 10 ? CONGESTED_PATH : HEALTHY_PATH,
    );
    expect(latest(sim.docs, 'isp:AS2')?.pathwayPriority).toEqual(['oca-b', 'oca-c', 'oca-a']);
    expect(latest(sim.docs, 'isp:AS2')?.ocas.find((o) => o.ocaId === 'oca-a')?.state).toBe('degraded');
    expect(latest(sim.docs, 'global')?.version).toBe(1);
    expect(latest(sim.docs, 'isp:AS1')?.version).toBe(1);

    // Everything degrades oca-c globally: AS2's document follows, marked as the global verdict.
    const sim2 = simulate(4, 40, FLEET, (c, w) =>
      c.ocaId === 'oca-c' && w >= 10 ? CONGESTED_PATH : HEALTHY_PATH,
    );
    for (const scope of ['global', 'isp:AS1', 'isp:AS2', 'region:eu-west']) {
      expect(latest(sim2.docs, scope)?.ocas.find((o) => o.ocaId === 'oca-c')?.state).toBe('degraded');
    }
  });

  it('resumes from published documents with monotonic versions and no re-announcement', () => {
    const first = simulate(5, 30, FLEET, (c, w) =>
      c.ocaId === 'oca-b' && w >= 10 ? CONGESTED_PATH : HEALTHY_PATH,
    );
    const published = ['global', 'isp:AS1', 'isp:AS2', 'region:eu-west'].map(
      (s) => latest(first.docs, s) as SteeringConfig,
    );
    expect(published[0]?.version).toBe(2);
    const resumed = simulate(
      6,
      30,
      FLEET,
      (c) => (c.ocaId === 'oca-b' ? CONGESTED_PATH : HEALTHY_PATH),
      steeringStateFromDocs(published),
      30,
    );
    // Still congested: nothing to say.
    expect(resumed.docs).toEqual([]);
    const recovered = simulate(7, 20, FLEET, () => HEALTHY_PATH, steeringStateFromDocs(published), 30);
    expect(latest(recovered.docs, 'global')?.version).toBe(3);
    expect(latest(recovered.docs, 'global')?.pathwayPriority).toEqual(['oca-a', 'oca-b', 'oca-c']);
  });

  it('skips windows it has already processed', () => {
    const rng = createRng(8);
    const obs = observe(rng, 0, FLEET, () => HEALTHY_PATH);
    const once = nextSteering(EMPTY_STEERING_STATE, { nowMs: T0, windows: [obs] }, PARAMS);
    const again = nextSteering(once.state, { nowMs: T0, windows: [obs] }, PARAMS);
    expect(once.docs.length).toBe(4);
    expect(again.docs).toEqual([]);
    expect(again.state).toEqual(once.state);
  });
});
