/**
 * The progress display: one line rewritten in place on a terminal, a plain line every
 * `intervalMs` otherwise (CI logs, pipes). It always says which mode produces the numbers.
 */
import type { FleetMode, Player, SessionTruth } from './player.ts';

export interface FleetProgress {
  readonly mode: FleetMode;
  /** `afap` (as fast as possible), `paced x<speed>`, or `wall clock` (HTTP mode). */
  readonly pacing: string;
  readonly simulatedMs: number;
  readonly wallMs: number;
  readonly players: number;
  /** Players inside a session (not resting between sessions). */
  readonly active: number;
  readonly playing: number;
  readonly stalledNow: number;
  readonly sessionsStarted: number;
  readonly sessionsDone: number;
  readonly eventsEmitted: number;
  readonly eventsSent: number;
  /** Stalls started so far (seek stalls included). */
  readonly stalls: number;
  /** Mean rendition bit rate over players playing now, kbps (0 when none). */
  readonly meanBitrateKbps: number;
  readonly ebvs: number;
  readonly vsf: number;
  readonly vpf: number;
  /** How far the simulation runs behind its pacing, wall ms (paced mode; 0 otherwise). */
  readonly lagMs: number;
}

/** How the progress line is clocked: the part of FleetProgress each mode knows for itself. */
export type ProgressClock = Pick<FleetProgress, 'mode' | 'pacing' | 'simulatedMs' | 'wallMs' | 'lagMs'>;

/**
 * What both fleet modes (timing and HTTP) count while their players run, and the progress
 * snapshot made of it and of the players' state now.
 */
export class FleetTally {
  sessionsStarted = 0;
  sessionsDone = 0;
  eventsEmitted = 0;
  eventsSent = 0;
  /** Stalls started so far (seek stalls included). */
  stalls = 0;
  ebvs = 0;
  vsf = 0;
  vpf = 0;

  emitted(event: { readonly kind: string }): void {
    this.eventsEmitted++;
    if (event.kind === 'stall_start') this.stalls++;
  }

  ended(truth: Pick<SessionTruth, 'ebvs' | 'vsf' | 'vpf'>): void {
    this.sessionsDone++;
    if (truth.ebvs) this.ebvs++;
    if (truth.vsf) this.vsf++;
    if (truth.vpf) this.vpf++;
  }

  snapshot(
    players: ReadonlyArray<Pick<Player, 'inSession' | 'stalledNow' | 'isPlaying' | 'displayedKbps'>>,
    clock: ProgressClock,
  ): FleetProgress {
    let active = 0;
    let playing = 0;
    let stalled = 0;
    let kbps = 0;
    for (const p of players) {
      if (p.inSession) active++;
      if (p.stalledNow) stalled++;
      if (p.isPlaying) {
        playing++;
        kbps += Math.max(0, p.displayedKbps);
      }
    }
    return {
      mode: clock.mode,
      pacing: clock.pacing,
      simulatedMs: clock.simulatedMs,
      wallMs: clock.wallMs,
      players: players.length,
      active,
      playing,
      stalledNow: stalled,
      sessionsStarted: this.sessionsStarted,
      sessionsDone: this.sessionsDone,
      eventsEmitted: this.eventsEmitted,
      eventsSent: this.eventsSent,
      stalls: this.stalls,
      meanBitrateKbps: playing > 0 ? kbps / playing : 0,
      ebvs: this.ebvs,
      vsf: this.vsf,
      vpf: this.vpf,
      lagMs: clock.lagMs,
    };
  }
}

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return `${h > 0 ? `${h}:` : ''}${String(m).padStart(h > 0 ? 2 : 1, '0')}:${String(sec).padStart(2, '0')}`;
}

const n = (x: number): string => Math.round(x).toLocaleString('en-US');

export function formatProgress(p: FleetProgress): string {
  const parts = [
    `fleet[${p.mode}, ${p.pacing}]`,
    `sim ${clock(p.simulatedMs)} wall ${clock(p.wallMs)}`,
    `players ${n(p.active)}/${n(p.players)} active, ${n(p.playing)} playing, ${n(p.stalledNow)} stalled`,
    `sessions ${n(p.sessionsDone)} done`,
    `events ${n(p.eventsSent)}/${n(p.eventsEmitted)} sent`,
    `stalls ${n(p.stalls)}`,
    `bitrate ${n(p.meanBitrateKbps)} kbps`,
    `ebvs/vsf/vpf ${p.ebvs}/${p.vsf}/${p.vpf}`,
  ];
  if (p.lagMs > 0) parts.push(`lag ${n(p.lagMs)} ms`);
  return parts.join(' | ');
}

export interface ProgressStream {
  write(chunk: string): boolean;
  readonly isTTY?: boolean | undefined;
}

export interface ProgressDisplay {
  /**
   * Shows progress when the interval has passed since the last time. Takes the snapshot as
   * a function: counting over every player is only worth it when the line is shown.
   */
  update(snapshot: () => FleetProgress, wallNowMs: number): void;
  /** Prints the final state on its own line. */
  done(p: FleetProgress): void;
}

export function createProgressDisplay(
  stream: ProgressStream,
  options: { intervalMs?: number } = {},
): ProgressDisplay {
  const tty = stream.isTTY === true;
  const interval = options.intervalMs ?? (tty ? 250 : 10_000);
  let lastShown = Number.NEGATIVE_INFINITY;
  return {
    update(snapshot, wallNowMs) {
      if (wallNowMs - lastShown < interval) return;
      lastShown = wallNowMs;
      const p = snapshot();
      // \r plus "erase in line" (ECMA-48 CSI 2 K) rewrites the one line in place.
      stream.write(tty ? `\r\x1b[2K${formatProgress(p)}` : `${formatProgress(p)}\n`);
    },
    done(p) {
      stream.write(tty ? `\r\x1b[2K${formatProgress(p)}\n` : `${formatProgress(p)}\n`);
    },
  };
}

/** A display that shows nothing (tests, library use). */
export const silentProgress: ProgressDisplay = Object.freeze({ update() {}, done() {} });
