/**
 * A small session-level simulator for the health model's tests: it draws sessions one by
 * one (start failures, stalls, startup times, throughput) and sums them the way qoe_windows
 * does, so the model sees the same noise a real window has. Deterministic per seed.
 */
import { createRng, type Rng } from '../../experiments/stats/index.ts';
import type { PlaybackEvent } from '../../schemas/generated/playback-event.ts';
import type { SessionRow } from '../qoe/rows.ts';
import { EMPTY_SUMS, type WindowSums } from './health.ts';
import { addSegments, EMPTY_SEGMENTS, type SegmentSums } from './segment-health.ts';

export interface PathQuality {
  /** Probability that a session fails to start. */
  readonly vsf: number;
  /** Probability that a started session fails fatally later. */
  readonly vpf: number;
  /** Probability that a started session stalls at all. */
  readonly stallProbability: number;
  /** Mean stall time of a stall, ms (exponential). */
  readonly meanStallMs: number;
  /** Median startup time, ms (log-normal, sigma 0.5). */
  readonly startupMedianMs: number;
  /** Median throughput, kbit/s (log-normal, sigma 0.4). */
  readonly throughputMedianKbps: number;
}

export const HEALTHY_PATH: PathQuality = Object.freeze({
  vsf: 0.01,
  vpf: 0.005,
  stallProbability: 0.15,
  meanStallMs: 3_000,
  startupMedianMs: 1_000,
  throughputMedianKbps: 8_000,
});

/** A congested OCA: most sessions stall for long, startup is slow, throughput low. */
export const CONGESTED_PATH: PathQuality = Object.freeze({
  vsf: 0.03,
  vpf: 0.01,
  stallProbability: 0.8,
  meanStallMs: 20_000,
  startupMedianMs: 2_500,
  throughputMedianKbps: 2_500,
});

export function simulateWindow(rng: Rng, sessions: number, q: PathQuality): WindowSums {
  let attempts = 0;
  let plays = 0;
  let vsf = 0;
  let vpf = 0;
  let playMs = 0;
  let stallMs = 0;
  let stalls = 0;
  let bytes = 0;
  let downloadMs = 0;
  const startups: number[] = [];
  for (let i = 0; i < sessions; i++) {
    attempts++;
    if (rng.uniform() < q.vsf) {
      vsf++;
      continue;
    }
    plays++;
    startups.push(q.startupMedianMs * Math.exp(0.5 * rng.normal()));
    const play = 60_000 + rng.uniform() * 540_000;
    playMs += play;
    if (rng.uniform() < q.stallProbability) {
      const count = 1 + Math.floor(rng.uniform() * 3);
      stalls += count;
      for (let k = 0; k < count; k++) stallMs += -q.meanStallMs * Math.log(1 - rng.uniform());
    }
    if (rng.uniform() < q.vpf) vpf++;
    const kbps = q.throughputMedianKbps * Math.exp(0.4 * rng.normal());
    const ms = 0.05 * play;
    downloadMs += ms;
    bytes += (kbps * ms) / 8;
  }
  startups.sort((a, b) => a - b);
  const p90 =
    startups.length === 0
      ? null
      : (startups[Math.min(startups.length - 1, Math.floor(0.9 * startups.length))] as number);
  return {
    sessions,
    attempts,
    plays,
    ebvs: 0,
    vsf,
    vpf,
    startups: startups.length,
    startupP90Ms: p90,
    playMs: Math.round(playMs),
    stallMs: Math.round(stallMs),
    stalls,
    bytes: Math.round(bytes),
    downloadMs: Math.round(downloadMs),
    scoreSum: 0,
    scored: 0,
  };
}

export function sumAll(xs: readonly WindowSums[]): WindowSums {
  return xs.reduce(addSums, EMPTY_SUMS);
}

/** Session counts that vary window to window: uniform in [low, high]. */
export function sessionCount(rng: Rng, low: number, high: number): number {
  return low + Math.floor(rng.uniform() * (high - low + 1));
}

/**
 * Sums of two windows. Startup p90 cannot be merged from two p90s; the simulator takes the
 * startup-weighted mean, which is close enough for tests (ClickHouse merges t-digests).
 */
export function addSums(a: WindowSums, b: WindowSums): WindowSums {
  const startups = a.startups + b.startups;
  const p90 =
    startups === 0
      ? null
      : ((a.startupP90Ms ?? 0) * a.startups + (b.startupP90Ms ?? 0) * b.startups) / startups;
  return {
    sessions: a.sessions + b.sessions,
    attempts: a.attempts + b.attempts,
    plays: a.plays + b.plays,
    ebvs: a.ebvs + b.ebvs,
    vsf: a.vsf + b.vsf,
    vpf: a.vpf + b.vpf,
    startups,
    startupP90Ms: p90,
    playMs: a.playMs + b.playMs,
    stallMs: a.stallMs + b.stallMs,
    stalls: a.stalls + b.stalls,
    bytes: a.bytes + b.bytes,
    downloadMs: a.downloadMs + b.downloadMs,
    scoreSum: a.scoreSum + b.scoreSum,
    scored: a.scored + b.scored,
  };
}

export { createRng };

export interface SessionPlace {
  readonly ocaId: string;
  readonly isp: string;
  readonly region: string;
  readonly country: string;
  readonly deviceClass: string;
}

/**
 * `n` rows of the ClickHouse `sessions` table drawn like simulateWindow's sessions, ending
 * uniformly within [fromMs, toMs): for integration tests that run the real window SQL.
 */
export function simulateSessionRows(
  rng: Rng,
  n: number,
  q: PathQuality,
  place: SessionPlace,
  range: { readonly fromMs: number; readonly toMs: number; readonly idPrefix: string },
  extra: Partial<SessionRow> = {},
): SessionRow[] {
  const rows: SessionRow[] = [];
  for (let i = 0; i < n; i++) {
    const id = `${range.idPrefix}-${i}`;
    const end = Math.floor(range.fromMs + rng.uniform() * (range.toMs - range.fromMs));
    const failed = rng.uniform() < q.vsf;
    const playMs = failed ? 0 : Math.round(60_000 + rng.uniform() * 540_000);
    let stallMs = 0;
    let stallCount = 0;
    if (!failed && rng.uniform() < q.stallProbability) {
      stallCount = 1 + Math.floor(rng.uniform() * 3);
      for (let k = 0; k < stallCount; k++)
        stallMs += Math.round(-q.meanStallMs * Math.log(1 - rng.uniform()));
    }
    const vpf = !failed && rng.uniform() < q.vpf;
    const startupMs = failed ? null : Math.round(q.startupMedianMs * Math.exp(0.5 * rng.normal()));
    const kbps = q.throughputMedianKbps * Math.exp(0.4 * rng.normal());
    const downloadMs = Math.round(0.05 * playMs);
    const watched = playMs + stallMs;
    rows.push({
      summary_id: `${id}:0`,
      summary_version: 1,
      session_id: id,
      viewer_id: `viewer-${id}`,
      title_id: 'title-001',
      start_time: end - playMs - stallMs - (startupMs ?? 2_000),
      end_time: end,
      duration_ms: playMs + stallMs + (startupMs ?? 2_000),
      end_reason: failed ? 'error' : vpf ? 'error' : 'viewer_exit',
      startup_outcome: failed ? 'vsf' : 'started',
      play_attempt: 1,
      ebvs: 0,
      vsf: failed ? 1 : 0,
      vpf: vpf ? 1 : 0,
      startup_ms: startupMs,
      play_ms: playMs,
      paused_ms: 0,
      stall_ms: stallMs,
      seek_stall_ms: 0,
      stall_count: stallCount,
      rebuffer_ratio: watched > 0 ? stallMs / watched : null,
      stalls_per_hour: watched > 0 ? stallCount / (watched / 3_600_000) : null,
      avg_bitrate_kbps: failed ? null : Math.min(kbps * 0.6, 6_000),
      switches_up: 0,
      switches_down: 0,
      bytes: Math.round((kbps * downloadMs) / 8),
      download_ms: downloadMs,
      segments: Math.round(playMs / 2_000),
      throughput_kbps: failed ? null : kbps,
      oca_id: place.ocaId,
      first_oca_id: place.ocaId,
      plan_oca_id: place.ocaId,
      device_class: place.deviceClass,
      isp: place.isp,
      region: place.region,
      country: place.country,
      player_name: 'simulated',
      experiments: [],
      event_count: 10,
      missing_seq_count: 0,
      error_count: failed || vpf ? 1 : 0,
      fatal_error_type: failed || vpf ? 'NETWORK_ERROR' : '',
      fatal_error_details: failed || vpf ? 'fragLoadError' : '',
      score: failed ? 0 : 80,
      source_partition: 0,
      source_offset_last: i,
      ...extra,
    });
  }
  return rows;
}

// ------------------------------------------------------------------------ segment level

/** How an OCA's segment requests fare on one path (segment-health.ts). */
export interface SegmentPathQuality {
  /** Probability that a request fails (a load error the player reports). */
  readonly failureRate: number;
  /** Median throughput of one download, kbit/s (log-normal, sigma 0.6). */
  readonly throughputMedianKbps: number;
  /** Time to first byte, ms. */
  readonly latencyMs: number;
}

export const HEALTHY_SEGMENTS: SegmentPathQuality = Object.freeze({
  failureRate: 0.002,
  throughputMedianKbps: 8_000,
  latencyMs: 40,
});

/** A congested OCA: slow downloads, some timeouts. */
export const CONGESTED_SEGMENTS: SegmentPathQuality = Object.freeze({
  failureRate: 0.03,
  throughputMedianKbps: 1_500,
  latencyMs: 400,
});

/** An OCA that answers fast but fails one request in eight (e.g. 503s). */
export const ERRORING_SEGMENTS: SegmentPathQuality = Object.freeze({
  ...HEALTHY_SEGMENTS,
  failureRate: 0.12,
});

/** The renditions a simulated player picks from, kbit/s; 2 s segments. */
const LADDER_KBPS = [400, 1_200, 3_000, 6_000] as const;

/**
 * One window of one cell: `sessions` players, each making `requestsPerSession` segment
 * requests, summed the way steering_segments is read (segments-source.ts). Each player has
 * its own access link: a log-normal draw (sigma 0.8, fiber to HSPA) around the path's median
 * scaled by `accessFactor` (1 for the fast ISP, less for a slower one), and each download
 * varies around it (sigma 0.3). Failures with `failureRate`.
 */
export function simulateSegments(
  rng: Rng,
  sessions: number,
  requestsPerSession: readonly [number, number],
  q: SegmentPathQuality,
  accessFactor = 1,
): SegmentSums {
  let sums: SegmentSums = EMPTY_SEGMENTS;
  for (let s = 0; s < sessions; s++) {
    const link = q.throughputMedianKbps * accessFactor * Math.exp(0.8 * rng.normal());
    const n = sessionCount(rng, requestsPerSession[0], requestsPerSession[1]);
    let segments = 0;
    let failures = 0;
    let bytes = 0;
    let downloadMs = 0;
    for (let i = 0; i < n; i++) {
      if (rng.uniform() < q.failureRate) {
        failures++;
        continue;
      }
      const kbps = LADDER_KBPS[Math.floor(rng.uniform() * LADDER_KBPS.length)] as number;
      const size = Math.round((kbps * 2_000) / 8);
      segments++;
      bytes += size;
      downloadMs += Math.max(1, Math.round(q.latencyMs + (size * 8) / (link * Math.exp(0.3 * rng.normal()))));
    }
    const timed = downloadMs > 0 && bytes > 0;
    const log = timed ? Math.log((bytes * 8) / downloadMs) : 0;
    sums = addSegments(sums, {
      segments,
      failures,
      bytes,
      downloadMs,
      sessions: n > 0 ? 1 : 0,
      tputSessions: timed ? 1 : 0,
      logKbpsSum: log,
      logKbpsSumSq: log * log,
    });
  }
  return sums;
}

/**
 * A playback event as ingest writes it (skew 0, received when it happened), with only what
 * the segment evidence reads set: the payload field named by `kind` goes in `payload`.
 */
export function playbackEvent(
  e: {
    readonly sessionId: string;
    readonly seq: number;
    readonly atMs: number;
    readonly isp: string;
    readonly region: string;
  },
  payload: Pick<PlaybackEvent, 'kind'> & Partial<PlaybackEvent>,
): PlaybackEvent {
  return {
    sessionId: e.sessionId,
    seq: e.seq,
    viewerId: `viewer-${e.sessionId}`,
    titleId: 'title-001',
    clientTs: e.atMs,
    playheadMs: null,
    device: {
      deviceClass: 'tv',
      model: null,
      os: null,
      playerName: 'simulated',
      playerVersion: null,
      userAgent: null,
    },
    experiments: [],
    cmcd: null,
    playIntent: null,
    manifestLoaded: null,
    firstFrame: null,
    renditionSwitch: null,
    stall: null,
    segment: null,
    heartbeat: null,
    error: null,
    seek: null,
    sessionEnd: null,
    server: {
      receivedAt: e.atMs,
      clockSkewMs: 0,
      deviceClass: 'tv',
      isp: e.isp,
      region: e.region,
      country: 'DE',
      ingestKeyId: 'test',
    },
    ...payload,
  };
}

/** A segment_downloaded payload. */
export function segmentPayload(
  ocaId: string,
  bytes: number,
  downloadMs: number,
): Pick<PlaybackEvent, 'kind' | 'segment'> {
  return {
    kind: 'segment_downloaded',
    segment: {
      ocaId,
      bytes,
      downloadMs,
      bitrateKbps: 3_000,
      durationMs: 2_000,
      level: 2,
      url: null,
      cacheHit: null,
    },
  };
}

/** A non-fatal segment load error payload (hls.js fragLoadError). */
export function fragErrorPayload(httpStatus: number | null = 503): Pick<PlaybackEvent, 'kind' | 'error'> {
  return {
    kind: 'error',
    error: { type: 'NETWORK_ERROR', details: 'fragLoadError', fatal: false, httpStatus, message: null },
  };
}
