/**
 * The player fleet: N simulated players drawn from a population mix, each asking a
 * `PlanSource` (the control plane) for a playback plan, playing with an ABR algorithm under
 * the plan's knobs, and sending its telemetry to an `EventSink` (the ingest client). Two
 * modes, and every result says which produced it:
 *
 * - `timing`: the discrete-event timing model (timing.ts), thousands of players per core,
 *   as fast as possible or paced against the wall clock;
 * - `http`: real downloads from the OCAs (http-mode.ts), tens of players, wall clock.
 *
 *   const result = await runFleet({
 *     settings: { mode: 'timing', players: 10_000, seed: 1, durationMs: 3_600_000 },
 *     pacing: { kind: 'paced', speed: 1 },
 *     planSource, sink, progress: createProgressDisplay(process.stderr),
 *   });
 */
import { HttpFleet } from './http-mode.ts';
import type { OcaConditions } from './network.ts';
import type { PlanSource, SteeringSource } from './plan.ts';
import type { FleetMode, SessionTruth } from './player.ts';
import type { PopulationInput } from './population.ts';
import { type FleetProgress, type ProgressDisplay, silentProgress } from './progress.ts';
import { type FleetSettingsInput, makePlayerConfig, validateFleetSettings } from './settings.ts';
import type { EventSink } from './sink.ts';
import { type Pacing, pacingLabel, TimingSimulator } from './timing.ts';

export interface FleetOptions {
  readonly settings: FleetSettingsInput;
  /** Timing mode only (the HTTP mode runs on the wall clock). Default: as fast as possible. */
  readonly pacing?: Pacing;
  readonly population?: PopulationInput;
  readonly planSource: PlanSource;
  readonly steeringSource?: SteeringSource;
  readonly sink: EventSink;
  /** Timing mode: what the OCAs do over simulated time (the HTTP mode meets the real OCAs). */
  readonly conditions?: OcaConditions;
  readonly progress?: ProgressDisplay;
  readonly onSessionEnd?: (truth: SessionTruth) => void;
  /** Timing mode, paced: lag behind the wall clock after each pass (timing.ts). */
  readonly onPacedPass?: (lagMs: number) => void;
  readonly signal?: AbortSignal;
  /** HTTP mode: fetch implementation and access emulation. */
  readonly fetch?: typeof fetch;
  readonly emulateAccess?: boolean;
}

export interface FleetRunResult {
  /** Which mode produced these numbers. */
  readonly mode: FleetMode;
  readonly pacing: string;
  readonly players: number;
  readonly seed: number;
  readonly simulatedMs: number;
  readonly wallMs: number;
  readonly maxLagMs: number;
  readonly progress: FleetProgress;
}

export async function runFleet(options: FleetOptions): Promise<FleetRunResult> {
  const settings = validateFleetSettings(options.settings);
  const progress = options.progress ?? silentProgress;
  if (settings.mode === 'http') {
    const config = makePlayerConfig(settings, options.population, settings.epochMs ?? Date.now());
    const fleet = new HttpFleet({
      players: settings.players,
      config,
      planSource: options.planSource,
      sink: options.sink,
      durationMs: settings.durationMs,
      progress,
      ...(options.steeringSource === undefined ? {} : { steeringSource: options.steeringSource }),
      ...(settings.rampUpMs === undefined ? {} : { rampUpMs: settings.rampUpMs }),
      ...(options.onSessionEnd === undefined ? {} : { onSessionEnd: options.onSessionEnd }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      ...(options.emulateAccess === undefined ? {} : { emulateAccess: options.emulateAccess }),
    });
    const r = await fleet.run();
    return {
      mode: 'http',
      pacing: 'wall clock',
      players: settings.players,
      seed: settings.seed,
      simulatedMs: r.wallMs,
      wallMs: r.wallMs,
      maxLagMs: 0,
      progress: r.progress,
    };
  }
  const pacing = options.pacing ?? { kind: 'afap' };
  // Faster than real time, simulated time runs ahead of the wall clock: date the run so that
  // it would end now, and every event is in the past when it is sent (ingest refuses events
  // from the future). Paced at real time, simulated time is the wall clock.
  const epochMs =
    settings.epochMs ??
    (pacing.kind === 'paced' && pacing.speed <= 1 ? Date.now() : Date.now() - settings.durationMs);
  const config = makePlayerConfig(settings, options.population, epochMs);
  const sim = new TimingSimulator({
    players: settings.players,
    config,
    planSource: options.planSource,
    sink: options.sink,
    pacing,
    durationMs: settings.durationMs,
    progress,
    ...(options.steeringSource === undefined ? {} : { steeringSource: options.steeringSource }),
    ...(options.conditions === undefined ? {} : { conditions: options.conditions }),
    ...(settings.rampUpMs === undefined ? {} : { rampUpMs: settings.rampUpMs }),
    ...(options.onSessionEnd === undefined ? {} : { onSessionEnd: options.onSessionEnd }),
    ...(options.onPacedPass === undefined ? {} : { onPacedPass: options.onPacedPass }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const r = await sim.run();
  return {
    mode: 'timing',
    pacing: pacingLabel(pacing),
    players: settings.players,
    seed: settings.seed,
    simulatedMs: r.simulatedMs,
    wallMs: r.wallMs,
    maxLagMs: r.maxLagMs,
    progress: r.progress,
  };
}
