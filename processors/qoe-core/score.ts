/**
 * The 0-100 session score (version SCORE_VERSION). Published formula: SCORE.md beside this
 * file; the README carries a copy. It is a function of summary fields only, so anyone holding
 * a SessionSummary (the qoe processor, the experiment engine, a dashboard query) can
 * recompute it.
 *
 *   score = 100 * F * S_startup * S_smooth * Q            (rounded to 0.01)
 *
 * - S_startup = 8 / (8 + startupSeconds)                  Mux Startup Time Score
 * - S_smooth  = (1/sqrt(1 + (stalls/2)^2) + e^(-10 r)) / 2   Mux Smoothness Score,
 *               r = rebufferRatio
 * - Q         = clamp(u(avgBitrate) - lambda * delta * switches / chunks, 0, 1)
 *               u = log utility over the ladder (BOLA, Spiteri et al. INFOCOM 2016), the
 *               switch term from Yin et al. SIGCOMM 2015 (QoE_lin, lambda = 1, 4 s chunks),
 *               each switch taken as one rung of Netflix's 2015 fixed ladder
 * - F         = 0.5 after a playback failure (vpf), else 1 (our choice)
 * - the product follows ITU-T P.1203.3 Eq. 28, MOS = 1 + (O.35 - 1) * SI: impairments
 *   scale the quality rather than being subtracted from it.
 *
 * Exits before video start and views without a verdict get no score (null); a video start
 * failure scores 0.
 */
import type { StartupOutcome } from '../../schemas/generated/playback-session.ts';

/** Bump when any formula or constant here changes; stored with every summary. */
export const SCORE_VERSION = 1;

export const SCORE_CONSTANTS = Object.freeze({
  /** Mux Startup Time Score: 8 / (8 + s); half score at 8 s of play delay. */
  startupHalfScoreSec: 8,
  /** Mux Smoothness Score, count term: 1 / sqrt(1 + (n / 2)^2). */
  stallCountScale: 2,
  /** Mux Smoothness Score, time term: e^(-10 * rebuffer fraction). */
  rebufferDecay: 10,
  /** Top of Netflix's 2015 fixed ladder (1920x1080); utility 1 at and above it. */
  bitrateTopKbps: 5_800,
  /** Bottom rung of that ladder (320x240). */
  ladderBottomKbps: 235,
  /** Rungs of that ladder: 235, 375, 560, 750, 1050, 1750, 2350, 3000, 4300, 5800 kbps. */
  ladderRungs: 10,
  /**
   * Utility 0 here. Below the ladder's bottom rung (our choice) so a view stuck on the bottom
   * rung keeps a small positive quality (0.21) and its score still tells a smooth view from a
   * stalling one.
   */
  bitrateFloorKbps: 100,
  /** Yin et al. 2015 QoE_lin weight of quality variation ("balanced": lambda = 1). */
  switchLambda: 1,
  /** Chunk length of Yin et al.'s evaluation; the switch penalty is per chunk played. */
  chunkSec: 4,
  /** A fatal error after the first frame halves the score (our choice). */
  playbackFailureFactor: 0.5,
});

export interface ScoreInputs {
  readonly startupOutcome: StartupOutcome;
  readonly startupMs: number | null;
  readonly vpf: boolean;
  readonly stallCount: number;
  readonly rebufferRatio: number | null;
  readonly avgBitrateKbps: number | null;
  readonly firstBitrateKbps: number | null;
  readonly switchesUp: number;
  readonly switchesDown: number;
  readonly playMs: number;
}

export interface SessionScore {
  /** 0-100, rounded to 0.01; null when the view has no verdict. */
  readonly score: number | null;
  /** Components, each 0-1 (unrounded); null when not applicable. */
  readonly startup: number | null;
  readonly smoothness: number | null;
  readonly quality: number | null;
}

const C = SCORE_CONSTANTS;
const LOG_SPAN = Math.log(C.bitrateTopKbps / C.bitrateFloorKbps);
/** One ladder rung in utility units: ln(5800/235) / 9 / ln(5800/100) = 0.08774. */
export const RUNG_UTILITY = Math.log(C.bitrateTopKbps / C.ladderBottomKbps) / (C.ladderRungs - 1) / LOG_SPAN;

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

/** Mux Startup Time Score on 0-1. No play delay known (a continued view): 1, nothing to blame. */
export function startupComponent(startupMs: number | null): number {
  if (startupMs === null) return 1;
  return C.startupHalfScoreSec / (C.startupHalfScoreSec + Math.max(0, startupMs) / 1000);
}

/** Mux Smoothness Score on 0-1: mean of the stall-count and rebuffer-fraction curves. */
export function smoothnessComponent(stallCount: number, rebufferRatio: number | null): number {
  const n = Math.max(0, stallCount);
  const r = rebufferRatio === null ? 0 : clamp01(rebufferRatio);
  const byCount = 1 / Math.sqrt(1 + (n / C.stallCountScale) ** 2);
  const byTime = Math.exp(-C.rebufferDecay * r);
  return (byCount + byTime) / 2;
}

/** Log utility of a bitrate (BOLA's v = ln(S/S_min)), normalised to 0 at the floor and 1 at the top. */
export function bitrateUtility(kbps: number): number {
  if (!(kbps > 0)) return 0;
  return clamp01(Math.log(kbps / C.bitrateFloorKbps) / LOG_SPAN);
}

/**
 * Quality: utility of the time-weighted bitrate minus Yin et al.'s variation term
 * lambda * sum|dq| / K, with each switch one rung (RUNG_UTILITY) and K = chunks played
 * (play time / 4 s, at least 1).
 */
export function qualityComponent(bitrateKbps: number, switches: number, playMs: number): number {
  const chunks = Math.max(1, playMs / 1000 / C.chunkSec);
  return clamp01(
    bitrateUtility(bitrateKbps) - (C.switchLambda * RUNG_UTILITY * Math.max(0, switches)) / chunks,
  );
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

export function sessionScore(input: ScoreInputs): SessionScore {
  switch (input.startupOutcome) {
    case 'vsf':
      return { score: 0, startup: null, smoothness: null, quality: null };
    case 'ebvs':
    case 'unknown':
      return { score: null, startup: null, smoothness: null, quality: null };
    case 'started':
    case 'continued':
      break;
  }
  const bitrate = input.avgBitrateKbps ?? input.firstBitrateKbps;
  const startup = startupComponent(input.startupOutcome === 'started' ? input.startupMs : null);
  const smoothness = smoothnessComponent(input.stallCount, input.rebufferRatio);
  if (bitrate === null) return { score: null, startup, smoothness, quality: null };
  const quality = qualityComponent(bitrate, input.switchesUp + input.switchesDown, input.playMs);
  const failure = input.vpf ? C.playbackFailureFactor : 1;
  return { score: round2(100 * failure * startup * smoothness * quality), startup, smoothness, quality };
}
