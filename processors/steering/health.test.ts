import { describe, expect, it } from 'vitest';
import type { OcaState } from '../../schemas/generated/steering-config.ts';
import {
  assessWindow,
  DEFAULT_HEALTH_PARAMS,
  EMPTY_SUMS,
  type HealthParams,
  newTracker,
  type OcaTracker,
  stepTracker,
  type Transition,
  type WindowSums,
} from './health.ts';
import {
  CONGESTED_PATH,
  createRng,
  HEALTHY_PATH,
  type PathQuality,
  sessionCount,
  simulateWindow,
} from './testing.ts';

const P: HealthParams = DEFAULT_HEALTH_PARAMS;
const W = 10_000;

interface Run {
  readonly tracker: OcaTracker;
  readonly transitions: Array<Transition & { window: number }>;
}

/** Feeds `windows` simulated windows of one OCA (and a 3x bigger baseline) through a tracker. */
function run(
  seed: number,
  phases: ReadonlyArray<{ windows: number; path: PathQuality; sessions?: [number, number] }>,
  start: OcaTracker = newTracker('healthy', 0),
  params: HealthParams = P,
): Run {
  const rng = createRng(seed);
  let tracker = start;
  const transitions: Run['transitions'] = [];
  let w = 0;
  for (const phase of phases) {
    const [low, high] = phase.sessions ?? [20, 60];
    for (let i = 0; i < phase.windows; i++, w++) {
      const own = simulateWindow(rng, sessionCount(rng, low, high), phase.path);
      const baseline = simulateWindow(rng, 3 * sessionCount(rng, low, high), HEALTHY_PATH);
      const a = assessWindow(own, baseline, params);
      const step = stepTracker(tracker, a, { start: w * W, end: (w + 1) * W }, params, 'oca-x');
      tracker = step.tracker;
      if (step.transition) transitions.push({ ...step.transition, window: w });
    }
  }
  return { tracker, transitions };
}

describe('assessWindow', () => {
  const rng = createRng(7);
  const healthy = simulateWindow(rng, 60, HEALTHY_PATH);

  it('carries no evidence when the OCA or its baseline has too few sessions', () => {
    const few = simulateWindow(rng, 19, CONGESTED_PATH);
    expect(assessWindow(few, healthy, P).level).toBe('none');
    expect(assessWindow(healthy, { ...healthy, sessions: 5 }, P).level).toBe('none');
    expect(assessWindow(healthy, EMPTY_SUMS, P).score).toBe(1);
  });

  it('sees a congested OCA as bad, with the rebuffer ratio bound above its margin', () => {
    const congested = simulateWindow(rng, 200, CONGESTED_PATH);
    const baseline = simulateWindow(rng, 600, HEALTHY_PATH);
    const a = assessWindow(congested, baseline, P);
    expect(a.level).toBe('bad');
    const rebuffer = a.signals.find((s) => s.metric === 'rebufferRatio');
    expect(rebuffer?.level).toBe('bad');
    expect(rebuffer?.lowerBound).toBeGreaterThan(rebuffer?.enterThreshold ?? 1);
    expect(a.score).toBeLessThan(1);
  });

  it('calls a clear outage severe', () => {
    const failing: WindowSums = { ...simulateWindow(rng, 60, HEALTHY_PATH), vsf: 30 };
    const a = assessWindow(failing, simulateWindow(rng, 180, HEALTHY_PATH), P);
    expect(a.level).toBe('severe');
    expect(a.signals.find((s) => s.metric === 'vsfRate')?.level).toBe('severe');
  });
});

describe('hysteresis: no flapping on noise', () => {
  it('keeps a noisy but healthy OCA healthy for 3,000 windows, several seeds, zero state changes', () => {
    for (const seed of [1, 2, 3]) {
      const r = run(seed, [{ windows: 3_000, path: HEALTHY_PATH }]);
      expect(r.transitions).toEqual([]);
      expect(r.tracker.state).toBe('healthy');
      // The published score never moved either, so the pathway order among healthy OCAs is stable.
      expect(r.tracker.score).toBe(1);
    }
  });

  it('stays put at the smallest sample that counts (20-25 sessions a window)', () => {
    const r = run(11, [{ windows: 3_000, path: HEALTHY_PATH, sessions: [20, 25] }]);
    expect(r.transitions).toEqual([]);
  });

  it('does not toggle on an OCA slightly worse than the fleet, below the margins', () => {
    // Truly worse (twice the stall probability) but well inside the practical margins.
    const slightlyWorse: PathQuality = { ...HEALTHY_PATH, stallProbability: 0.3, vsf: 0.015 };
    const r = run(5, [{ windows: 3_000, path: slightlyWorse }]);
    expect(r.transitions).toEqual([]);
  });

  it('ignores a burst shorter than enterWindows', () => {
    const r = run(21, [
      { windows: 50, path: HEALTHY_PATH },
      { windows: P.enterWindows - 1, path: CONGESTED_PATH },
      { windows: 200, path: HEALTHY_PATH },
    ]);
    expect(r.transitions).toEqual([]);
    expect(r.tracker.score).toBe(1);
  });
});

describe('hysteresis: real degradation and recovery', () => {
  it('degrades within enterWindows of the onset and recovers exitWindows after it ends, once each', () => {
    const onset = 100;
    const end = onset + 30;
    const r = run(42, [
      { windows: onset, path: HEALTHY_PATH },
      { windows: end - onset, path: CONGESTED_PATH },
      { windows: 1_000, path: HEALTHY_PATH },
    ]);
    expect(r.transitions.map((t) => [t.from, t.to, t.window])).toEqual([
      ['healthy', 'degraded', onset + P.enterWindows - 1],
      ['degraded', 'healthy', end + P.exitWindows - 1],
    ]);
    const [degrade, recover] = r.transitions;
    // The reason carries the numbers and the method.
    expect(degrade?.reason).toMatch(/^oca-x degraded \(was healthy\): .+ vs fleet .+ for 3 windows$/);
    expect(degrade?.streakStart).toBe(onset * W);
    expect(recover?.reason).toMatch(/back in line with the fleet for 3 windows/);
    expect(r.tracker.state).toBe('healthy');
    expect(r.tracker.score).toBe(1);
  });

  it('across 40 seeds: degraded at the third bad window, healthy within a few windows of the end, nothing else', () => {
    for (let seed = 100; seed < 140; seed++) {
      const r = run(seed, [
        { windows: 60, path: HEALTHY_PATH },
        { windows: 20, path: CONGESTED_PATH },
        { windows: 200, path: HEALTHY_PATH },
      ]);
      expect(r.transitions.map((t) => t.to)).toEqual(['degraded', 'healthy']);
      // Never before the onset; at the latest when its third bad window closes (a noisy bad
      // window just before the onset may count toward the streak).
      expect(r.transitions[0]?.window).toBeGreaterThanOrEqual(60);
      expect(r.transitions[0]?.window).toBeLessThanOrEqual(60 + P.enterWindows - 1);
      expect(r.transitions[1]?.window).toBeGreaterThanOrEqual(80 + P.exitWindows - 1);
      expect(r.transitions[1]?.window).toBeLessThanOrEqual(80 + P.exitWindows + 7);
    }
  });

  it('drains an OCA whose sessions mostly fail to start, and steps back through probation', () => {
    const outage: PathQuality = { ...HEALTHY_PATH, vsf: 0.6 };
    const r = run(3, [
      { windows: 20, path: HEALTHY_PATH },
      { windows: 10, path: outage },
      // Drained: no traffic at all, so no evidence...
      { windows: P.probeAfterWindows, path: HEALTHY_PATH, sessions: [0, 5] },
      // ...then probation traffic that is fine again.
      { windows: 10, path: HEALTHY_PATH },
    ]);
    expect(r.transitions.map((t) => [t.from, t.to, t.window])).toEqual([
      ['healthy', 'drained', 20 + P.drainWindows - 1],
      ['drained', 'degraded', 30 + P.probeAfterWindows - 1],
      ['degraded', 'healthy', 30 + P.probeAfterWindows + P.exitWindows - 1],
    ]);
    expect(r.transitions[1]?.reason).toMatch(/no evidence for 30 windows, re-admitted on probation/);
  });

  it('neither counts nor resets a streak on windows without evidence', () => {
    const states: OcaState[] = [];
    let tracker = newTracker('healthy', 0);
    const rng = createRng(9);
    const pattern: Array<'bad' | 'quiet'> = ['bad', 'quiet', 'bad', 'quiet', 'quiet', 'bad'];
    pattern.forEach((kind, w) => {
      const own = simulateWindow(rng, kind === 'bad' ? 60 : 3, CONGESTED_PATH);
      const a = assessWindow(own, simulateWindow(rng, 180, HEALTHY_PATH), P);
      tracker = stepTracker(tracker, a, { start: w * W, end: (w + 1) * W }, P, 'oca-x').tracker;
      states.push(tracker.state);
    });
    expect(states).toEqual(['healthy', 'healthy', 'healthy', 'healthy', 'healthy', 'degraded']);
  });
});
