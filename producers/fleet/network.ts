/**
 * The network a simulated player sees: its access link as a bandwidth/RTT trace over time,
 * and the path from the player to each OCA on top of it.
 *
 * Access link model (stated, so results can be argued with)
 * ---------------------------------------------------------
 * A two-state Markov-modulated process, Gilbert-Elliott style (Gilbert, Bell Syst. Tech. J.
 * 39, 1960; Elliott, BSTJ 42, 1963): the link is "good" or "bad" (congested, a fade), with
 * exponential dwell times (a continuous-time Markov chain). Within a state the bandwidth is
 * log-normal around the state's mean, resampled every `sampleIntervalMs` (1 s, the
 * granularity of the FCC and HSDPA traces Pensieve trains on) with AR(1) correlation in the
 * log domain, so it wanders rather than jumps:
 *
 *   z_k  = rho * z_(k-1) + sqrt(1 - rho^2) * e_k,        e_k ~ N(0, 1)   (z stays N(0, 1))
 *   bw_k = mean_state * exp(sigma_state * z_k - sigma_state^2 / 2)       (E[bw] = mean_state)
 *
 * RTT is the profile's base RTT plus the state's queueing delay (bufferbloat in the bad state).
 *
 * Calibration. The profiles below are assumptions in the ranges these sources report, not
 * fits: FCC "Measuring Broadband America" fixed reports (median latency roughly 10-15 ms
 * fiber, 20-25 ms cable, 30-45 ms DSL); the FCC and Norwegian HSDPA commute traces
 * (Riiser et al., "Commute Path Bandwidth Traces from 3G Networks", MMSys 2013) as Pensieve
 * uses them (Mao, Netravali, Alizadeh, "Neural Adaptive Video Streaming with Pensieve",
 * SIGCOMM 2017: traces filtered to 0.2-6 Mbps mean, 80 ms link RTT), whose range is what
 * makes ABR decisions matter for a 0.4-2.5 Mbps ladder.
 *
 * Path to an OCA. Effective bandwidth from one OCA is
 *   min(access trace, OCA per-connection cap, TCP's loss/RTT bound)
 * where the TCP bound is Mathis et al.'s steady-state throughput (Mathis, Semke, Mahdavi,
 * Ott, "The Macroscopic Behavior of the TCP Congestion Avoidance Algorithm", CCR 27(3),
 * 1997): MSS / RTT * C / sqrt(p), C = sqrt(3/2). It makes a far OCA slower than a near one
 * on the same access link. RTT adds the path's distance (same ISP, same region, other
 * region); an OCA's degradation (control-plane/oca/degrade.ts) adds latency before the
 * first byte, a throughput cap, and an error rate answered with 503. A download costs
 *   ttfb = RTT + OCA latency;   transfer = bytes over the piecewise-constant effective rate
 * (one request-response round trip on a kept-alive connection; slow start is not modelled).
 *
 * Units: 1 kbps = 1000 bit/s = 1 bit/ms, so kbps times milliseconds is bits.
 */
import type { Degradation } from '../../control-plane/oca/degrade.ts';
import type { Rng } from './random.ts';

export const ACCESS_KINDS = ['fiber', 'cable', 'dsl', 'lte', 'hspa'] as const;
export type AccessKind = (typeof ACCESS_KINDS)[number];

export interface LinkState {
  /** Mean bandwidth in this state. */
  readonly meanKbps: number;
  /** Log-normal shape of the per-sample bandwidth. */
  readonly sigma: number;
  /** Mean time before leaving this state. */
  readonly meanDwellMs: number;
  /** Queueing delay added to the base RTT in this state. */
  readonly queueingMs: number;
}

export interface AccessProfile {
  readonly kind: AccessKind;
  readonly good: LinkState;
  readonly bad: LinkState;
  /** Round trip from the player to the first router of its ISP and back, unloaded. */
  readonly baseRttMs: number;
  readonly sampleIntervalMs: number;
  /** AR(1) coefficient of log-bandwidth between consecutive samples. */
  readonly rho: number;
  /** Packet loss rate for the Mathis bound. */
  readonly lossRate: number;
}

function profile(
  kind: AccessKind,
  good: LinkState,
  bad: LinkState,
  baseRttMs: number,
  rho: number,
  lossRate: number,
): AccessProfile {
  return Object.freeze({ kind, good, bad, baseRttMs, sampleIntervalMs: 1_000, rho, lossRate });
}

const state = (meanKbps: number, sigma: number, meanDwellMs: number, queueingMs: number): LinkState =>
  Object.freeze({ meanKbps, sigma, meanDwellMs, queueingMs });

/** The access technologies of the default population (see the calibration note above). */
export const ACCESS_PROFILES: Readonly<Record<AccessKind, AccessProfile>> = Object.freeze({
  fiber: profile('fiber', state(150_000, 0.2, 180_000, 0), state(30_000, 0.4, 10_000, 15), 12, 0.8, 1e-5),
  cable: profile('cable', state(60_000, 0.3, 120_000, 0), state(8_000, 0.5, 15_000, 40), 22, 0.8, 1e-4),
  dsl: profile('dsl', state(6_000, 0.25, 120_000, 0), state(2_000, 0.4, 20_000, 60), 35, 0.85, 1e-4),
  lte: profile('lte', state(12_000, 0.5, 40_000, 0), state(1_500, 0.7, 8_000, 120), 55, 0.7, 5e-4),
  hspa: profile('hspa', state(2_200, 0.5, 30_000, 0), state(400, 0.8, 8_000, 200), 90, 0.7, 1e-3),
});

/** TCP segment payload for the Mathis bound (Ethernet MTU 1500 minus IPv4 and TCP headers). */
export const MSS_BYTES = 1_460;
const MATHIS_C = Math.sqrt(1.5);

/** Mathis et al. 1997 steady-state TCP throughput, kbps (= bit/ms). */
export function mathisCapKbps(rttMs: number, lossRate: number, mssBytes = MSS_BYTES): number {
  if (!(lossRate > 0) || !(rttMs > 0)) return Number.POSITIVE_INFINITY;
  return ((mssBytes * 8) / rttMs) * (MATHIS_C / Math.sqrt(lossRate));
}

/**
 * The access link of one player: generated lazily, in time order, from its own random
 * stream, and kept only from the earliest time still asked about (`release`). Pieces of
 * constant bandwidth end at integer milliseconds.
 */
export class NetworkTrace {
  readonly profile: AccessProfile;
  private readonly rng: Rng;
  // Generated pieces [start of head, ends[head]), [ends[head], ends[head+1]), ...
  private ends: number[] = [];
  private kbps: number[] = [];
  private badFlags: boolean[] = [];
  private head = 0;
  private headStart: number;
  // Generator state.
  private genEnd: number;
  private bad: boolean;
  private stateEndsAt: number;
  private nextSampleAt: number;
  private z: number;

  constructor(profile: AccessProfile, rng: Rng, startMs = 0) {
    this.profile = profile;
    this.rng = rng;
    this.headStart = startMs;
    this.genEnd = startMs;
    const { good, bad } = profile;
    // Start in the chain's stationary distribution; dwell times are memoryless.
    this.bad = rng.uniform() < bad.meanDwellMs / (good.meanDwellMs + bad.meanDwellMs);
    this.stateEndsAt = startMs + this.dwell();
    this.z = rng.normal();
    this.nextSampleAt = startMs + profile.sampleIntervalMs;
  }

  /**
   * A trace that follows the given pieces (each until `untilMs`, ascending), then continues
   * from the model: for replaying a recorded trace, and for hand-worked tests.
   */
  static scripted(
    profile: AccessProfile,
    rng: Rng,
    pieces: ReadonlyArray<{ readonly untilMs: number; readonly kbps: number; readonly bad?: boolean }>,
    startMs = 0,
  ): NetworkTrace {
    const trace = new NetworkTrace(profile, rng, startMs);
    let last = startMs;
    for (const p of pieces) {
      if (!(p.untilMs > last) || !(p.kbps > 0))
        throw new RangeError('scripted pieces must ascend and have kbps > 0');
      trace.ends.push(p.untilMs);
      trace.kbps.push(p.kbps);
      trace.badFlags.push(p.bad ?? false);
      last = p.untilMs;
    }
    trace.genEnd = last;
    trace.stateEndsAt = Math.max(trace.stateEndsAt, last);
    trace.nextSampleAt = Math.max(trace.nextSampleAt, last);
    return trace;
  }

  private dwell(): number {
    const mean = this.bad ? this.profile.bad.meanDwellMs : this.profile.good.meanDwellMs;
    return Math.max(1, Math.round(this.rng.exponential(mean)));
  }

  private generate(): void {
    if (this.genEnd >= this.stateEndsAt) {
      this.bad = !this.bad;
      this.stateEndsAt = this.genEnd + this.dwell();
    }
    if (this.genEnd >= this.nextSampleAt) {
      const rho = this.profile.rho;
      this.z = rho * this.z + Math.sqrt(1 - rho * rho) * this.rng.normal();
      this.nextSampleAt += this.profile.sampleIntervalMs;
    }
    const s = this.bad ? this.profile.bad : this.profile.good;
    const end = Math.min(this.stateEndsAt, this.nextSampleAt);
    this.ends.push(end);
    this.kbps.push(s.meanKbps * Math.exp(s.sigma * this.z - (s.sigma * s.sigma) / 2));
    this.badFlags.push(this.bad);
    this.genEnd = end;
  }

  /** Index of the piece holding time t (t before the head piece maps to the head piece). */
  private pieceAt(t: number): number {
    let i = this.head;
    for (;;) {
      while (i >= this.ends.length) this.generate();
      if (t < (this.ends[i] as number)) return i;
      i++;
    }
  }

  bandwidthKbpsAt(t: number): number {
    return this.kbps[this.pieceAt(t)] as number;
  }

  /** Access RTT at time t: base plus the current state's queueing. */
  rttMsAt(t: number): number {
    const bad = this.badFlags[this.pieceAt(t)] as boolean;
    return this.profile.baseRttMs + (bad ? this.profile.bad.queueingMs : this.profile.good.queueingMs);
  }

  isBadAt(t: number): boolean {
    return this.badFlags[this.pieceAt(t)] as boolean;
  }

  /**
   * Milliseconds to carry `bytes` starting at `startMs`, at min(trace, capKbps) piece by
   * piece. A start before the oldest kept piece is charged that piece's rate.
   */
  transferMs(startMs: number, bytes: number, capKbps = Number.POSITIVE_INFINITY): number {
    let bits = bytes * 8;
    if (bits <= 0) return 0;
    let t = startMs;
    let i = this.pieceAt(t);
    for (;;) {
      const end = this.ends[i] as number;
      const rate = Math.min(this.kbps[i] as number, capKbps);
      const span = end - t;
      const capacity = rate * span;
      if (bits <= capacity) return t + bits / rate - startMs;
      bits -= capacity;
      t = end;
      i++;
      while (i >= this.ends.length) this.generate();
    }
  }

  /** Forgets pieces that end at or before t: nobody will ask about that time again. */
  release(t: number): void {
    while (this.head < this.ends.length - 1 && (this.ends[this.head] as number) <= t) {
      this.headStart = this.ends[this.head] as number;
      this.head++;
    }
    if (this.head > 64 && this.head * 2 > this.ends.length) {
      this.ends = this.ends.slice(this.head);
      this.kbps = this.kbps.slice(this.head);
      this.badFlags = this.badFlags.slice(this.head);
      this.head = 0;
    }
  }

  /** Start of the oldest piece kept. */
  get keptFromMs(): number {
    return this.headStart;
  }
}

/** Where a player or an OCA sits, for path RTT. */
export interface Location {
  readonly region?: string | undefined;
  readonly isp?: string | undefined;
}

/**
 * Round trip added by the path beyond the player's access link. Same ISP (an edge embedded
 * in the player's network, Open Connect's design): nothing; same region through an exchange
 * or another network: a few ms; another region: a transatlantic-scale RTT (~80-90 ms
 * between Frankfurt and New York); unknown: a small default.
 */
export const PATH_RTT_MS = Object.freeze({ sameIsp: 0, sameRegion: 4, otherRegion: 85, unknown: 10 });

export function pathExtraRttMs(player: Location, oca: Location): number {
  if (oca.region === undefined || player.region === undefined) return PATH_RTT_MS.unknown;
  if (oca.region !== player.region) return PATH_RTT_MS.otherRegion;
  if (oca.isp !== undefined && oca.isp === player.isp) return PATH_RTT_MS.sameIsp;
  return PATH_RTT_MS.sameRegion;
}

/** What an OCA does to requests at a given time (the OCA server's own degradation shape). */
export interface OcaConditions {
  at(ocaId: string, t: number): Degradation;
}

export const HEALTHY: Degradation = Object.freeze({ latencyMs: 0, errorRate: 0 });

export const healthyOcas: OcaConditions = Object.freeze({ at: () => HEALTHY });

export interface ConditionChange {
  /** Simulated time from which the degradation holds (until the OCA's next change). */
  readonly atMs: number;
  readonly ocaId: string;
  readonly degradation: Degradation;
}

/** A scripted scenario: each OCA healthy until its first change, then piecewise constant. */
export function scheduledConditions(changes: readonly ConditionChange[]): OcaConditions {
  const byOca = new Map<string, ConditionChange[]>();
  for (const c of [...changes].sort((a, b) => a.atMs - b.atMs)) {
    const list = byOca.get(c.ocaId) ?? [];
    list.push(c);
    byOca.set(c.ocaId, list);
  }
  return {
    at(ocaId, t) {
      const list = byOca.get(ocaId);
      if (list === undefined) return HEALTHY;
      let current = HEALTHY;
      for (const c of list) {
        if (c.atMs > t) break;
        current = c.degradation;
      }
      return current;
    },
  };
}

export interface RequestModel {
  /** ok: the body arrived; http_error: the OCA answered an error status; timeout: gave up. */
  readonly outcome: 'ok' | 'http_error' | 'timeout';
  /** When the outcome is known, ms after the request (integer). */
  readonly durationMs: number;
  /** Request to first byte (integer ms); for errors, to the error answer. */
  readonly ttfbMs: number;
  readonly httpStatus: number | null;
}

export interface RequestTimeouts {
  /** hls.js fragLoadPolicy maxTimeToFirstByteMs. */
  readonly ttfbTimeoutMs: number;
  /** hls.js fragLoadPolicy maxLoadTimeMs. */
  readonly loadTimeoutMs: number;
}

/**
 * One HTTP request from a player to an OCA at time t, under the model stated at the top.
 * `errorDraw` is a uniform draw in (0, 1) from the player's error stream: the request fails
 * with 503 when it falls under the OCA's error rate. Durations are rounded up to whole ms
 * so simulated time stays on integers.
 */
export function modelRequest(
  trace: NetworkTrace,
  t: number,
  bytes: number,
  extraRttMs: number,
  condition: Degradation,
  timeouts: RequestTimeouts,
  errorDraw: number,
): RequestModel {
  const rtt = trace.rttMsAt(t) + extraRttMs;
  const ttfb = Math.ceil(rtt + condition.latencyMs);
  if (ttfb > timeouts.ttfbTimeoutMs) {
    return {
      outcome: 'timeout',
      durationMs: timeouts.ttfbTimeoutMs,
      ttfbMs: timeouts.ttfbTimeoutMs,
      httpStatus: null,
    };
  }
  if (errorDraw < condition.errorRate)
    return { outcome: 'http_error', durationMs: ttfb, ttfbMs: ttfb, httpStatus: 503 };
  const cap = Math.min(
    condition.throughputKbps ?? Number.POSITIVE_INFINITY,
    mathisCapKbps(rtt, trace.profile.lossRate),
  );
  const total = Math.max(ttfb + 1, Math.ceil(ttfb + trace.transferMs(t + ttfb, bytes, cap)));
  if (total > timeouts.loadTimeoutMs) {
    return { outcome: 'timeout', durationMs: timeouts.loadTimeoutMs, ttfbMs: ttfb, httpStatus: null };
  }
  return { outcome: 'ok', durationMs: total, ttfbMs: ttfb, httpStatus: 200 };
}
