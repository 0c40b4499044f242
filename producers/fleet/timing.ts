/**
 * The timing-model mode: a discrete-event simulator that runs thousands of players in one
 * process without downloading anything.
 *
 * - One event queue (heap.ts) keyed by simulated time, one entry per player: the earliest
 *   moment it needs attention. No per-player timers, no promises per download.
 * - Downloads are modelled (network.ts): ttfb = RTT + OCA latency, then the bytes over
 *   min(access trace, OCA cap, TCP bound), integrated piece by piece over the trace; an OCA's
 *   error rate answers 503s. Outcomes are known when a request is made, so a download is just
 *   a due time in the queue.
 * - Buffer dynamics are exact (player.ts): the buffer drains in real time while playing, the
 *   player stalls at the exact millisecond it runs dry and resumes when a segment lands.
 * - Plans and steering manifests come from real sources (PlanSource / SteeringSource), which
 *   answer asynchronously. Their arrival time is modelled (a round trip plus server time);
 *   run as fast as possible, the simulator waits for an answer that is late in wall terms,
 *   so the run stays deterministic; paced, the player waits instead and the queue goes on.
 * - Events from all players collect in one outbox per origin and go to the sink in batches.
 *
 * Pacing: `afap` runs simulated time as fast as the CPU allows (ground-truth workloads,
 * benchmarks); `paced` ties simulated time to the wall clock at `speed` (1 = real time), for
 * demos whose telemetry must arrive live. `lagMs` reports how far a paced run falls behind.
 *
 * Ground truth: every session's truth (player.ts SessionTruth) goes to `onSessionEnd`.
 */
import { errorMessage } from '../../core/errors.ts';
import type { WireEvent } from '../client/wire.ts';
import { contentFromPlan, modelManifestBytes, modelSegmentBytes } from './content.ts';
import { SlotHeap } from './heap.ts';
import {
  ACCESS_PROFILES,
  healthyOcas,
  modelRequest,
  NetworkTrace,
  type OcaConditions,
  PATH_RTT_MS,
  pathExtraRttMs,
  type RequestModel,
} from './network.ts';
import type {
  PlanRequest,
  PlanResult,
  PlanSource,
  SteeringRequest,
  SteeringResult,
  SteeringSource,
} from './plan.ts';
import {
  type MediaOutcome,
  type MediaRequest,
  type Pending,
  Player,
  type PlayerConfig,
  type PlayerIo,
  type SessionTruth,
  STREAM_TRACE,
} from './player.ts';
import { type FleetProgress, FleetTally, type ProgressDisplay } from './progress.ts';
import { Rng, streamSeed } from './random.ts';
import type { EventSink, SinkOrigin } from './sink.ts';

export type Pacing = { readonly kind: 'afap' } | { readonly kind: 'paced'; readonly speed: number };

export interface TimingOptions {
  readonly players: number;
  readonly config: PlayerConfig;
  readonly planSource: PlanSource;
  /** Answers steering polls; without one a poll fails and the plan's order stands. */
  readonly steeringSource?: SteeringSource;
  readonly sink: EventSink;
  readonly conditions?: OcaConditions;
  readonly pacing: Pacing;
  /** Simulated time to run; sessions still open then end as `navigated_away`. */
  readonly durationMs: number;
  /** Players start their first session spread evenly over this long (no thundering herd). */
  readonly rampUpMs?: number;
  /** Outbox size that triggers a send to the sink (afap). */
  readonly flushEveryEvents?: number;
  /** Paced: longest sleep between queue passes, wall ms. */
  readonly tickMs?: number;
  /** Server time the control plane and steering server take, ms (added to one round trip). */
  readonly serverMs?: number;
  /**
   * Round trips to open a connection to an OCA, paid by a session's first request to it:
   * TCP's handshake plus TLS 1.3's (RFC 8446: one round trip). Default 2.
   */
  readonly connectionSetupRtts?: number;
  /** Spread of modelled segment sizes around the average (content.ts); 0 for exact sizes. */
  readonly segmentSizeSpread?: number;
  /** Overrides a player's access trace (recorded traces, hand-worked tests). */
  readonly traceFor?: (player: Player) => NetworkTrace;
  readonly onSessionEnd?: (truth: SessionTruth) => void;
  /**
   * Paced: called after every pass over the queue with how far simulated time trails the
   * wall clock, ms (benchmarks sample it to judge whether the fleet keeps pace).
   */
  readonly onPacedPass?: (lagMs: number) => void;
  readonly progress?: ProgressDisplay;
  readonly signal?: AbortSignal;
}

export interface TimingResult {
  readonly mode: 'timing';
  readonly pacing: string;
  readonly players: number;
  readonly simulatedMs: number;
  readonly wallMs: number;
  readonly progress: FleetProgress;
  /** Largest lag behind the wall clock seen while paced, ms. */
  readonly maxLagMs: number;
}

export function pacingLabel(p: Pacing): string {
  return p.kind === 'afap' ? 'afap' : `paced x${p.speed}`;
}

export class TimingSimulator implements PlayerIo {
  private readonly players: Player[] = [];
  private readonly traces: NetworkTrace[] = [];
  private readonly heap: SlotHeap;
  private readonly conditions: OcaConditions;
  private readonly outboxes: WireEvent[][];
  private readonly origins: SinkOrigin[];
  private readonly serverMs: number;
  private readonly paced: boolean;
  private readonly setupRtts: number;
  /** Per player: OCAs (bit = index in the plan, first 32) it has a connection to this session. */
  private readonly connected: Uint32Array;
  private outboxCount = 0;
  /** Simulated time of the event being processed. */
  private now = 0;
  private wallStart = 0;
  private maxLagMs = 0;
  private lagMs = 0;
  private readonly tally = new FleetTally();

  constructor(private readonly options: TimingOptions) {
    if (options.config.mode !== 'timing')
      throw new TypeError('the timing simulator runs players in timing mode');
    if (!Number.isInteger(options.players) || options.players < 1)
      throw new RangeError('players must be >= 1');
    this.heap = new SlotHeap(options.players);
    this.conditions = options.conditions ?? healthyOcas;
    this.serverMs = options.serverMs ?? 20;
    this.paced = options.pacing.kind === 'paced';
    this.setupRtts = options.connectionSetupRtts ?? 2;
    this.connected = new Uint32Array(options.players);
    const isps = options.config.sampler.population.isps;
    this.origins = isps.map((i) => ({ isp: i.isp, clientAddress: i.clientAddress }));
    this.outboxes = isps.map(() => []);
    const rampUp = options.rampUpMs ?? Math.min(60_000, options.durationMs / 4);
    for (let slot = 0; slot < options.players; slot++) {
      const startAt = Math.floor((slot * rampUp) / options.players);
      const player = new Player(slot, options.config, this, startAt);
      const profile = ACCESS_PROFILES[player.traits.access];
      this.traces.push(
        options.traceFor?.(player) ??
          new NetworkTrace(profile, new Rng(streamSeed(options.config.seed, slot, STREAM_TRACE)), 0),
      );
      this.players.push(player);
      this.heap.set(slot, startAt);
    }
  }

  async run(): Promise<TimingResult> {
    this.wallStart = performance.now();
    if (this.options.pacing.kind === 'afap') await this.runAfap();
    else await this.runPaced(this.options.pacing.speed);
    const end = Math.min(this.now, this.options.durationMs);
    const endAt = this.options.signal?.aborted ? end : this.options.durationMs;
    this.now = endAt;
    for (const p of this.players) p.shutdown(endAt);
    await this.flushOutbox();
    await this.options.sink.flush();
    const progress = this.snapshot(endAt);
    this.options.progress?.done(progress);
    return {
      mode: 'timing',
      pacing: pacingLabel(this.options.pacing),
      players: this.players.length,
      simulatedMs: endAt,
      wallMs: performance.now() - this.wallStart,
      progress,
      maxLagMs: this.maxLagMs,
    };
  }

  /** The queue key: when the player next needs attention, or waits for an answer (afap). */
  private keyOf(p: Player): number {
    const wake = p.nextWakeAt();
    return this.paced ? wake : Math.min(wake, p.unresolvedDueAt());
  }

  private async runAfap(): Promise<void> {
    const end = this.options.durationMs;
    const flushEvery = this.options.flushEveryEvents ?? 5_000;
    let steps = 0;
    for (;;) {
      const t = this.heap.peekTime();
      if (t > end) break;
      const slot = this.heap.peekSlot();
      const p = this.players[slot] as Player;
      this.now = t;
      if (p.unresolvedDueAt() <= t) await this.waitForAnswers(p, t);
      p.advance(t);
      this.heap.set(slot, this.keyOf(p));
      if (this.outboxCount >= flushEvery) await this.flushOutbox();
      if (++steps % 8_192 === 0) {
        if (this.options.signal?.aborted) break;
        this.options.progress?.update(() => this.snapshot(t), performance.now());
        // Let answered plans and steering polls settle, and the sink's requests go out.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }

  /** Waits until every answer due by t is in (afap keeps the modelled arrival time). */
  private async waitForAnswers(p: Player, t: number): Promise<void> {
    const ops: Pending<unknown>[] = [p.planOp, p.steeringOp];
    for (const op of ops) {
      if (op.active && op.result === null && op.dueAt <= t && op.wait !== null) await op.wait;
    }
  }

  private async runPaced(speed: number): Promise<void> {
    if (!(speed > 0)) throw new RangeError('speed must be > 0');
    const end = this.options.durationMs;
    const tickMs = this.options.tickMs ?? 50;
    const simNow = (): number => Math.floor((performance.now() - this.wallStart) * speed);
    for (;;) {
      if (this.options.signal?.aborted) return;
      const target = Math.min(simNow(), end);
      let lateMs = 0;
      let steps = 0;
      while (this.heap.peekTime() <= target) {
        const slot = this.heap.peekSlot();
        const p = this.players[slot] as Player;
        const t = this.heap.peekTime();
        this.now = t;
        p.advance(t);
        this.heap.set(slot, this.keyOf(p));
        if (++steps % 2_048 === 0) lateMs = Math.max(lateMs, (simNow() - t) / speed);
      }
      await this.flushOutbox();
      this.lagMs = Math.max(lateMs, (simNow() - target) / speed);
      this.maxLagMs = Math.max(this.maxLagMs, this.lagMs);
      this.options.onPacedPass?.(this.lagMs);
      this.options.progress?.update(() => this.snapshot(target), performance.now());
      if (target >= end) {
        this.now = end;
        return;
      }
      const next = Math.min(this.heap.peekTime(), end);
      const waitMs = Math.max(0, Math.min(tickMs, (next - simNow()) / speed));
      await new Promise<void>((resolve) =>
        waitMs > 0 ? setTimeout(resolve, waitMs) : setImmediate(resolve),
      );
    }
  }

  private async flushOutbox(): Promise<void> {
    if (this.outboxCount === 0) return;
    const waits: Promise<void>[] = [];
    for (let i = 0; i < this.outboxes.length; i++) {
      const box = this.outboxes[i] as WireEvent[];
      if (box.length === 0) continue;
      this.outboxes[i] = [];
      this.tally.eventsSent += box.length;
      const w = this.options.sink.send(this.origins[i] as SinkOrigin, box);
      if (w !== undefined) waits.push(w);
    }
    this.outboxCount = 0;
    if (waits.length > 0) await Promise.all(waits);
  }

  // ---------------------------------------------------------------- PlayerIo

  requestPlan(player: Player, request: PlanRequest): void {
    this.tally.sessionsStarted++;
    this.connected[player.slot] = 0;
    const due = this.now + this.roundTripMs(player) + this.serverMs;
    const op = player.planOp;
    const gen = op.gen;
    op.dueAt = due;
    op.wait = this.options.planSource.getPlan(request).then(
      (result) => this.answered(player, op, gen, due, result),
      (err: unknown) =>
        this.answered<PlanResult>(player, op, gen, due, {
          ok: false,
          failure: { httpStatus: null, message: errorMessage(err) },
        }),
    );
  }

  requestSteering(player: Player, request: SteeringRequest): void {
    const due = this.now + this.roundTripMs(player) + this.serverMs;
    const op = player.steeringOp;
    const gen = op.gen;
    op.dueAt = due;
    const source = this.options.steeringSource;
    const answer: Promise<SteeringResult> =
      source === undefined
        ? Promise.resolve({ ok: false, httpStatus: null, message: 'no steering source in this run' })
        : source.fetch(request);
    op.wait = answer.then(
      (result) => this.answered(player, op, gen, due, result),
      (err: unknown) =>
        this.answered<SteeringResult>(player, op, gen, due, {
          ok: false,
          httpStatus: null,
          message: errorMessage(err),
        }),
    );
  }

  /** One round trip from the player to the control plane in its region. */
  private roundTripMs(player: Player): number {
    return Math.ceil(this.traces[player.slot]!.rttMsAt(this.now) + PATH_RTT_MS.sameRegion);
  }

  private answered<T>(player: Player, op: Pending<T>, gen: number, due: number, result: T): void {
    if (!op.active || op.gen !== gen) return;
    // Paced: an answer later than modelled applies when it is in, never in the past.
    const at = this.paced
      ? Math.max(due, Math.floor((performance.now() - this.wallStart) * this.pacedSpeed()))
      : due;
    op.settle(gen, at, result);
    if (this.paced) this.heap.set(player.slot, this.keyOf(player));
  }

  private pacedSpeed(): number {
    return this.options.pacing.kind === 'paced' ? this.options.pacing.speed : 1;
  }

  requestMedia(player: Player, request: MediaRequest): void {
    const trace = this.traces[player.slot] as NetworkTrace;
    trace.release(this.now);
    const isp = player.traits.isp;
    const extra = pathExtraRttMs({ region: isp.region, isp: isp.isp }, request.oca);
    const condition = this.conditions.at(request.oca.id, this.now);
    const timeouts = this.options.config.timeouts;
    // A new connection costs its handshakes before the request can go out.
    const bit = request.ocaIndex < 32 ? 1 << request.ocaIndex : 0;
    let setupMs = 0;
    if (bit !== 0 && ((this.connected[player.slot] as number) & bit) === 0) {
      this.connected[player.slot] = (this.connected[player.slot] as number) | bit;
      setupMs = Math.ceil(this.setupRtts * (trace.rttMsAt(this.now) + extra));
    }
    const start = this.now + setupMs;
    let model: RequestModel;
    let bytes: number;
    if (request.kind === 'segment') {
      const content = player.content!;
      bytes = modelSegmentBytes(content, request.level, request.index, this.options.segmentSizeSpread);
      model = modelRequest(trace, start, bytes, extra, condition, timeouts, player.errorRng.uniform());
    } else {
      // The multivariant playlist, then the first media playlist: two requests in a row.
      const content = contentFromPlan(player.plan!);
      const half = content === undefined ? 2_000 : Math.ceil(modelManifestBytes(content) / 2);
      bytes = half * 2;
      const first = modelRequest(trace, start, half, extra, condition, timeouts, player.errorRng.uniform());
      if (first.outcome !== 'ok') model = first;
      else {
        const second = modelRequest(
          trace,
          start + first.durationMs,
          half,
          extra,
          condition,
          timeouts,
          player.errorRng.uniform(),
        );
        model = { ...second, durationMs: first.durationMs + second.durationMs, ttfbMs: first.ttfbMs };
      }
    }
    const ok = model.outcome === 'ok';
    const outcome: MediaOutcome = {
      ok,
      bytes: ok ? bytes : 0,
      downloadMs: setupMs + model.durationMs,
      ttfbMs: setupMs + model.ttfbMs,
      httpStatus: model.httpStatus,
      timedOut: model.outcome === 'timeout',
    };
    player.mediaOp.settle(player.mediaOp.gen, this.now + outcome.downloadMs, outcome);
  }

  cancelMedia(_player: Player): void {
    // Nothing is in flight for real: the modelled outcome is simply dropped.
  }

  emit(player: Player, event: WireEvent): void {
    (this.outboxes[player.traits.ispIndex] as WireEvent[]).push(event);
    this.outboxCount++;
    this.tally.emitted(event);
  }

  sessionEnded(_player: Player, truth: SessionTruth): void {
    this.tally.ended(truth);
    this.options.onSessionEnd?.(truth);
  }

  /** Simulated time of the event being processed (sources that script by time read it). */
  get simulatedNow(): number {
    return this.now;
  }

  /** Progress over all players, now. */
  snapshot(simulatedMs: number): FleetProgress {
    return this.tally.snapshot(this.players, {
      mode: 'timing',
      pacing: pacingLabel(this.options.pacing),
      simulatedMs,
      wallMs: performance.now() - this.wallStart,
      lagMs: this.lagMs,
    });
  }
}
