/**
 * A workload whose truth is known by construction: every session is generated from a few
 * drawn parameters (startup delay, stalls, bitrates, a switch, a pause, a seek and its
 * stall, how it ends), and the truth of each QoE metric is computed from those parameters
 * with plain arithmetic, never by the QoE code under test.
 *
 * The timeline of a session that starts (times relative to its play intent):
 *   0 intent, 100 manifest, S first frame at b0 kbps,
 *   S + w        switch b0 -> b1 (w before anything else happens, so bitrate bookkeeping
 *                is a two-piece sum),
 *   then stalls, a pause and a seek (+ seek stall) at known offsets, segments and
 *   heartbeats in between, and session_end (or a fatal error then session_end for VPF).
 * playMs = (end - S) - sum(stalls) - pause - seekStall, where a fatal error (VPF) ends play.
 * EBVS sessions end before the first frame; VSF sessions fail fatally before it.
 */
import { createRng, type Rng } from '../../experiments/stats/prng.ts';
import { Script, T0 } from '../../processors/qoe-core/testing.ts';
import type { PlaybackEvent } from '../../schemas/generated/playback-event.ts';

export interface SessionTruth {
  readonly sessionId: string;
  readonly ocaId: string;
  readonly isp: string;
  readonly region: string;
  readonly deviceClass: string;
  readonly titleId: string;
  /** Corrected event time of session_end, epoch ms. */
  readonly endTime: number;
  readonly attempt: boolean;
  readonly started: boolean;
  readonly ebvs: boolean;
  readonly vsf: boolean;
  readonly vpf: boolean;
  readonly startupMs: number | null;
  readonly playMs: number;
  readonly stallMs: number;
  readonly stallCount: number;
  /** Sum of bitrate x play time, kbps*ms (time-weighted bitrate numerator). */
  readonly bitrateKbpsMs: number;
  readonly switchesUp: number;
  readonly switchesDown: number;
  readonly experimentCell: string;
}

export interface Workload {
  readonly events: PlaybackEvent[];
  readonly truth: SessionTruth[];
}

export const OCAS = [
  'oca-edge-as3320-a',
  'oca-edge-as3320-b',
  'oca-edge-as7922-a',
  'oca-storage-eu',
] as const;
const ISPS = [
  { isp: 'AS3320', region: 'eu-central', country: 'DE' },
  { isp: 'AS7922', region: 'us-east', country: 'US' },
  { isp: 'AS2856', region: 'eu-west', country: 'GB' },
] as const;
const DEVICES = ['tv', 'mobile', 'desktop', 'tablet'] as const;
const LADDER = [400, 1000, 2500, 4500] as const;

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng.uniform() * items.length)] as T;
}

function int(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng.uniform() * (hi - lo + 1));
}

export interface WorkloadOptions {
  readonly sessions: number;
  readonly seed: number;
  /** Epoch ms of the first play intent. */
  readonly startMs: number;
  /** Play intents are spread uniformly over this span. */
  readonly spreadMs: number;
  /** Share of events delivered twice (duplicates must not count). */
  readonly duplicateShare?: number;
  /** Events are delivered out of order within this jitter (below allowed lateness). */
  readonly reorderJitterMs?: number;
}

/**
 * Times below are absolute epoch ms; the Script builder takes them relative to its T0, hence
 * the `- T0` at each call.
 */
export function generateWorkload(options: WorkloadOptions): Workload {
  const rng = createRng(options.seed);
  const events: Array<{ at: number; event: PlaybackEvent }> = [];
  const truth: SessionTruth[] = [];
  for (let i = 0; i < options.sessions; i++) {
    const sessionId = `s-${options.seed}-${i}`;
    const net = pick(rng, ISPS);
    const deviceClass = pick(rng, DEVICES);
    const ocaId = pick(rng, OCAS);
    const titleId = `title-${int(rng, 1, 12)}`;
    const experimentCell = rng.uniform() < 0.5 ? 'control' : 'treatment';
    const t0 = options.startMs + Math.floor(rng.uniform() * options.spreadMs);
    const skewMs = int(rng, -5_000, 5_000);
    const script = new Script(sessionId, {
      viewerId: `viewer-${i % 5_000}`,
      titleId,
      skewMs,
      server: { deviceClass, isp: net.isp, region: net.region, country: net.country },
      device: { deviceClass },
    });
    const kind = rng.uniform();
    const exp = [{ key: 'abr-bandwidth-factor', cell: experimentCell }];
    const base = { sessionId, ocaId, isp: net.isp, region: net.region, deviceClass, titleId, experimentCell };
    script.intent(t0 - T0, { ocaId, experiments: exp });
    script.manifest(t0 + 100 - T0, ocaId);
    if (kind < 0.06) {
      // EBVS: the viewer leaves during startup.
      const end = t0 + int(rng, 500, 6_000);
      script.end(end - T0, 'viewer_exit');
      truth.push({ ...base, ...failedStart(end), ebvs: true });
    } else if (kind < 0.09) {
      // VSF: a fatal error before the first frame.
      const failAt = t0 + int(rng, 300, 4_000);
      script.error(failAt - T0, true, 'NETWORK_ERROR');
      script.end(failAt + 50 - T0, 'error');
      truth.push({ ...base, ...failedStart(failAt + 50), vsf: true });
    } else {
      const startup = int(rng, 300, 5_000);
      const first = t0 + startup;
      const b0 = pick(rng, LADDER);
      const b1 = pick(
        rng,
        LADDER.filter((b) => b !== b0),
      );
      const w = int(rng, 2_000, 8_000);
      script.firstFrame(first - T0, b0);
      script.segment(first - 50 - T0, ocaId, Math.round((b0 * 2_000) / 8), int(rng, 100, 900), b0);
      script.switchTo(first + w - T0, b0, b1);
      let cursor = first + w + int(rng, 1_000, 5_000);
      let stallMs = 0;
      const stallCount = int(rng, 0, 3);
      for (let k = 0; k < stallCount; k++) {
        const d = int(rng, 200, 4_000);
        script.stallStart(cursor - T0);
        script.stallEnd(cursor + d - T0, d);
        stallMs += d;
        cursor += d + int(rng, 2_000, 10_000);
        script.heartbeat(cursor - 1_000 - T0, b1);
      }
      let pauseMs = 0;
      if (rng.uniform() < 0.3) {
        pauseMs = int(rng, 1_000, 20_000);
        script.pause(cursor - T0);
        script.resume(cursor + pauseMs - T0);
        cursor += pauseMs + int(rng, 1_000, 5_000);
      }
      let seekStallMs = 0;
      if (rng.uniform() < 0.3) {
        seekStallMs = int(rng, 100, 2_000);
        script.seek(cursor - T0, 30_000, 90_000);
        script.stallStart(cursor + 10 - T0);
        script.stallEnd(cursor + 10 + seekStallMs - T0, seekStallMs);
        // The 10 ms between the seek and its stall are play time at b1.
        cursor += 10 + seekStallMs + int(rng, 1_000, 5_000);
      }
      script.segment(cursor - 200 - T0, ocaId, Math.round((b1 * 2_000) / 8), int(rng, 100, 900), b1);
      const vpf = rng.uniform() < 0.03;
      const end = cursor + int(rng, 1_000, 30_000);
      if (vpf) {
        script.error(end - 20 - T0, true, 'MEDIA_ERROR');
        script.end(end - T0, 'error');
      } else {
        script.end(end - T0, 'viewer_exit');
      }
      // A fatal error stops playback: play time ends at the error, not at session_end.
      const playEnd = vpf ? end - 20 : end;
      const playMs = playEnd - first - stallMs - pauseMs - seekStallMs;
      truth.push({
        ...base,
        endTime: end,
        attempt: true,
        started: true,
        ebvs: false,
        vsf: false,
        vpf,
        startupMs: startup,
        playMs,
        stallMs,
        stallCount,
        bitrateKbpsMs: b0 * w + b1 * (playMs - w),
        switchesUp: b1 > b0 ? 1 : 0,
        switchesDown: b1 < b0 ? 1 : 0,
      });
    }
    const jitter = options.reorderJitterMs ?? 0;
    for (const event of script.events) {
      const at =
        event.clientTs - event.server.clockSkewMs + (jitter > 0 ? Math.floor(rng.uniform() * jitter) : 0);
      events.push({ at, event });
      if (rng.uniform() < (options.duplicateShare ?? 0)) events.push({ at: at + int(rng, 1, 500), event });
    }
  }
  events.sort((a, b) => a.at - b.at);
  return { events: events.map((e) => e.event), truth };
}

function failedStart(endTime: number): Omit<SessionTruth, keyof BaseKeys> & { ebvs: boolean; vsf: boolean } {
  return {
    endTime,
    attempt: true,
    started: false,
    ebvs: false,
    vsf: false,
    vpf: false,
    startupMs: null,
    playMs: 0,
    stallMs: 0,
    stallCount: 0,
    bitrateKbpsMs: 0,
    switchesUp: 0,
    switchesDown: 0,
  };
}

type BaseKeys = Pick<
  SessionTruth,
  'sessionId' | 'ocaId' | 'isp' | 'region' | 'deviceClass' | 'titleId' | 'experimentCell'
>;

/** The truth rolled up the way qoe_windows rolls sessions up, for one window size. */
export interface TruthAggregate {
  sessions: number;
  attempts: number;
  plays: number;
  ebvs: number;
  vsf: number;
  vpf: number;
  startups: number;
  startupMsSum: number;
  playMs: number;
  stallMs: number;
  stalls: number;
  bitrateKbpsMs: number;
  switchesUp: number;
  switchesDown: number;
}

export function aggregateTruth(
  truth: readonly SessionTruth[],
  windowSec: number,
): Map<string, TruthAggregate> {
  const out = new Map<string, TruthAggregate>();
  for (const t of truth) {
    const s = Math.floor(t.endTime / 1000);
    const windowStart = s - (s % windowSec);
    const key = [windowStart, t.ocaId, t.isp, t.region, t.deviceClass, t.titleId].join('|');
    const a = out.get(key) ?? {
      sessions: 0,
      attempts: 0,
      plays: 0,
      ebvs: 0,
      vsf: 0,
      vpf: 0,
      startups: 0,
      startupMsSum: 0,
      playMs: 0,
      stallMs: 0,
      stalls: 0,
      bitrateKbpsMs: 0,
      switchesUp: 0,
      switchesDown: 0,
    };
    a.sessions += 1;
    a.attempts += t.attempt ? 1 : 0;
    a.plays += t.started ? 1 : 0;
    a.ebvs += t.ebvs ? 1 : 0;
    a.vsf += t.vsf ? 1 : 0;
    a.vpf += t.vpf ? 1 : 0;
    a.startups += t.startupMs === null ? 0 : 1;
    a.startupMsSum += t.startupMs ?? 0;
    a.playMs += t.playMs;
    a.stallMs += t.stallMs;
    a.stalls += t.stallCount;
    a.bitrateKbpsMs += t.bitrateKbpsMs;
    a.switchesUp += t.switchesUp;
    a.switchesDown += t.switchesDown;
    out.set(key, a);
  }
  return out;
}
