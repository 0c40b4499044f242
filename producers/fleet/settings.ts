/**
 * The fleet's own settings, validated once (zod, like core/config.ts) and turned into the
 * `PlayerConfig` every player of a run shares. Units are in the names.
 */
import { z } from 'zod';
import { PlayloopError } from '../../core/errors.ts';
import { FLEET_MODES, type PlayerConfig } from './player.ts';
import {
  DEFAULT_POPULATION,
  type PopulationInput,
  PopulationSampler,
  validatePopulation,
} from './population.ts';

export const FLEET_VERSION = '0.1.0';

export const fleetSettingsSchema = z
  .strictObject({
    mode: z.enum(FLEET_MODES),
    players: z.number().int().min(1).max(1_000_000),
    /** Same seed, same run: every draw of every player derives from it. */
    seed: z.number().int().min(0).max(0xffff_ffff).default(1),
    /** Simulated (timing) or wall (HTTP) time to run. */
    durationMs: z.number().int().positive(),
    /** Epoch ms of simulated time 0; the run's start on the wall clock when absent. */
    epochMs: z.number().int().min(0).optional(),
    heartbeatIntervalMs: z.number().int().positive().default(10_000),
    /** Fleet policy, not hls.js's default (6 retries over ~30 s): retry, then change OCA. */
    retry: z
      .strictObject({
        maxNumRetry: z.number().int().min(0).max(20).default(2),
        retryDelayMs: z.number().int().min(0).default(1_000),
        maxRetryDelayMs: z.number().int().min(0).default(8_000),
      })
      .prefault({}),
    /** hls.js fragLoadPolicy.default: maxTimeToFirstByteMs and maxLoadTimeMs. */
    timeouts: z
      .strictObject({
        ttfbTimeoutMs: z.number().int().positive().default(10_000),
        loadTimeoutMs: z.number().int().positive().default(120_000),
      })
      .prefault({}),
    minSteeringTtlMs: z.number().int().min(100).default(1_000),
    /** hls.js content-steering-controller PATHWAY_PENALTY_DURATION_MS. */
    pathwayPenaltyMs: z.number().int().min(0).default(300_000),
    /** First sessions start spread over this long (default: min(60 s, a quarter of the run)). */
    rampUpMs: z.number().int().min(0).optional(),
  })
  .superRefine((s, ctx) => {
    if (s.retry.retryDelayMs > s.retry.maxRetryDelayMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['retry', 'retryDelayMs'],
        message: 'must not exceed maxRetryDelayMs',
      });
    }
    if (s.mode === 'http' && s.players > 200) {
      ctx.addIssue({
        code: 'custom',
        path: ['players'],
        message: 'the HTTP mode is for tens of players (at most 200); use the timing mode for more',
      });
    }
  });

export type FleetSettingsInput = z.input<typeof fleetSettingsSchema>;
export type FleetSettings = Readonly<z.output<typeof fleetSettingsSchema>>;

export function validateFleetSettings(input: unknown): FleetSettings {
  const result = fleetSettingsSchema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map(
      (i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`,
    );
    throw new PlayloopError('CONFIG_INVALID', `invalid fleet settings:\n  ${issues.join('\n  ')}`, {
      details: { issues },
    });
  }
  return Object.freeze(result.data);
}

/** The run tag in session and viewer ids: the seed in base 36 (same seed, same ids). */
export function runTagOf(seed: number): string {
  return `f${seed.toString(36)}`;
}

export function makePlayerConfig(
  settings: FleetSettings,
  population: PopulationInput | undefined,
  epochMs: number,
): PlayerConfig {
  const pop = population === undefined ? DEFAULT_POPULATION : validatePopulation(population);
  return Object.freeze({
    mode: settings.mode,
    seed: settings.seed,
    runTag: runTagOf(settings.seed),
    epochMs,
    heartbeatIntervalMs: settings.heartbeatIntervalMs,
    retry: settings.retry,
    timeouts: settings.timeouts,
    minSteeringTtlMs: settings.minSteeringTtlMs,
    pathwayPenaltyMs: settings.pathwayPenaltyMs,
    viewer: pop.viewer,
    sampler: new PopulationSampler(pop),
    playerVersion: FLEET_VERSION,
  });
}
