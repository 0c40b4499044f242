/**
 * What the fleet needs from the control plane, as small interfaces of its own: the control
 * plane's POST /v1/playback/:titleId is still being written, so an adapter will map its
 * answer onto `PlaybackPlan` (and a local stub serves tests and offline runs).
 *
 * A plan is what Netflix's playback API hands a player: ranked OCAs with signed base URLs
 * (a signed path prefix per OCA, control-plane/signing), the renditions with their playlist
 * paths under that prefix, ABR knobs by the players' own names, a Content Steering server
 * and the experiment cells this playback was allocated.
 *
 * Content Steering manifests follow the HLS Content Steering specification (Apple, "HLS
 * Content Steering", v1.2b1) / DASH-IF Content Steering: VERSION, TTL (seconds),
 * RELOAD-URI (relative to the manifest's own URI), PATHWAY-PRIORITY.
 */
import { z } from 'zod';
import type { ExperimentCell } from '../../schemas/generated/playback-event.ts';
import type { AbrKnobsInput } from './abr/knobs.ts';

export interface PlanOca {
  /** OCA id, also the Content Steering Pathway ID. */
  readonly id: string;
  /** Absolute URL ending in `/`: the signed prefix under which the title's files live. */
  readonly baseUrl: string;
  readonly region?: string | undefined;
  readonly isp?: string | undefined;
}

export interface PlanRendition {
  /** STABLE-VARIANT-ID, e.g. 720p. */
  readonly id: string;
  /** Peak bit rate (BANDWIDTH), bit/s. */
  readonly bandwidthBps: number;
  /** Mean bit rate (AVERAGE-BANDWIDTH), bit/s; the peak when absent. */
  readonly averageBandwidthBps?: number | undefined;
  readonly width?: number | undefined;
  readonly height?: number | undefined;
  /** Media playlist path relative to an OCA's baseUrl, e.g. `720p/index.m3u8`. */
  readonly playlist: string;
}

export interface PlanSteering {
  /** Absolute URI of the steering manifest. */
  readonly uri: string;
  /** Pathway to use until the first manifest arrives (EXT-X-CONTENT-STEERING PATHWAY-ID). */
  readonly pathwayId?: string | undefined;
}

export interface PlaybackPlan {
  readonly planId: string;
  /**
   * The session id the control plane gave this playback (it signs the media URLs and keys
   * session-unit experiment allocations). When present the player reports its telemetry under
   * it, as a real player does, so sessions join to their plan and allocation. Absent from
   * stub sources: the player keeps its own id.
   */
  readonly sessionId?: string | undefined;
  readonly titleId: string;
  /** Best first. */
  readonly ocas: readonly PlanOca[];
  /**
   * The multivariant playlist: a path relative to an OCA's baseUrl, or an absolute URL when
   * the control plane serves it itself. The HTTP mode loads it before the first media playlist.
   */
  readonly multivariant?: string | undefined;
  /** Ascending by bandwidth. */
  readonly renditions: readonly PlanRendition[];
  /**
   * Content duration and segment duration. The timing mode needs them (it reads no
   * playlist); the HTTP mode takes them from the media playlist.
   */
  readonly durationMs?: number | undefined;
  readonly segmentDurationMs?: number | undefined;
  readonly abr: AbrKnobsInput;
  readonly steering: PlanSteering | null;
  readonly experiments: readonly ExperimentCell[];
}

export interface PlanRequest {
  readonly titleId: string;
  readonly sessionId: string;
  readonly viewerId: string;
  readonly deviceClass: string;
  /** Where the player is, as the fleet models it (the control plane may infer it from the address). */
  readonly isp: string;
  readonly region: string;
  readonly country: string;
  /** The address the player presents (X-Forwarded-For towards loopback services). */
  readonly clientAddress: string;
}

/** Failure to get a plan, as the player sees it. */
export interface PlanFailure {
  readonly httpStatus: number | null;
  readonly message: string;
}

export type PlanResult =
  | { readonly ok: true; readonly plan: PlaybackPlan }
  | { readonly ok: false; readonly failure: PlanFailure };

/** The control plane as the fleet uses it. Must not reject: failures are values. */
export interface PlanSource {
  getPlan(request: PlanRequest): Promise<PlanResult>;
}

export interface SteeringManifest {
  readonly version: number;
  /** Seconds until the next reload. */
  readonly ttlSec: number;
  /** Absolute URI of the next reload, when the server moved it. */
  readonly reloadUri: string | null;
  readonly pathwayPriority: readonly string[];
}

export interface SteeringRequest {
  readonly uri: string;
  /** `_HLS_pathway`: the pathway in use. */
  readonly pathway: string;
  /** `_HLS_throughput`: the player's throughput estimate, bit/s. */
  readonly throughputBps: number;
}

export type SteeringResult =
  | { readonly ok: true; readonly manifest: SteeringManifest }
  | { readonly ok: false; readonly httpStatus: number | null; readonly message: string };

/** A steering server as the fleet uses it. Must not reject: failures are values. */
export interface SteeringSource {
  fetch(request: SteeringRequest): Promise<SteeringResult>;
}

const steeringJsonSchema = z.looseObject({
  VERSION: z.number().int().positive(),
  TTL: z.number().nonnegative(),
  'RELOAD-URI': z.string().min(1).optional(),
  'PATHWAY-PRIORITY': z.array(z.string().regex(/^[A-Za-z0-9._-]+$/)).min(1),
});

/**
 * Parses a steering manifest body. RELOAD-URI is resolved against the URI the manifest came
 * from (RFC 3986 §5). Unknown keys (PATHWAY-CLONES and later additions) are tolerated.
 */
export function parseSteeringManifest(body: unknown, fromUri: string): SteeringManifest | { error: string } {
  const parsed = steeringJsonSchema.safeParse(body);
  if (!parsed.success) {
    return { error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  }
  const m = parsed.data;
  let reloadUri: string | null = null;
  if (m['RELOAD-URI'] !== undefined) {
    try {
      reloadUri = new URL(m['RELOAD-URI'], fromUri).toString();
    } catch {
      return { error: 'RELOAD-URI is not a URI reference' };
    }
  }
  return { version: m.VERSION, ttlSec: m.TTL, reloadUri, pathwayPriority: m['PATHWAY-PRIORITY'] };
}

/** The steering URI with the query parameters the HLS Content Steering spec defines. */
export function steeringRequestUrl(request: SteeringRequest): string {
  const url = new URL(request.uri);
  url.searchParams.set('_HLS_pathway', request.pathway);
  url.searchParams.set('_HLS_throughput', String(Math.round(request.throughputBps)));
  return url.toString();
}

const planOcaSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  baseUrl: z.url({ protocol: /^https?$/ }).refine((u) => u.endsWith('/'), 'must end with /'),
  region: z.string().min(1).optional(),
  isp: z.string().min(1).optional(),
});

const planRenditionSchema = z.strictObject({
  id: z.string().min(1).max(64),
  bandwidthBps: z.number().int().positive(),
  averageBandwidthBps: z.number().int().positive().optional(),
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
  playlist: z.string().min(1),
});

export const playbackPlanSchema = z
  .strictObject({
    planId: z.string().min(1).max(128),
    sessionId: z.string().min(1).max(128).optional(),
    titleId: z.string().min(1).max(64),
    ocas: z.array(planOcaSchema).min(1),
    multivariant: z.string().min(1).optional(),
    renditions: z.array(planRenditionSchema).min(1),
    durationMs: z.number().int().positive().optional(),
    segmentDurationMs: z.number().int().positive().optional(),
    abr: z.record(z.string(), z.unknown()).default({}),
    steering: z
      .strictObject({ uri: z.url({ protocol: /^https?$/ }), pathwayId: z.string().min(1).optional() })
      .nullable()
      .default(null),
    experiments: z.array(z.strictObject({ key: z.string().min(1), cell: z.string().min(1) })).default([]),
  })
  .superRefine((plan, ctx) => {
    for (let i = 1; i < plan.renditions.length; i++) {
      if ((plan.renditions[i]?.bandwidthBps ?? 0) < (plan.renditions[i - 1]?.bandwidthBps ?? 0)) {
        ctx.addIssue({
          code: 'custom',
          path: ['renditions', i],
          message: 'renditions must ascend by bandwidth',
        });
      }
    }
    const ids = new Set(plan.ocas.map((o) => o.id));
    if (ids.size !== plan.ocas.length)
      ctx.addIssue({ code: 'custom', path: ['ocas'], message: 'duplicate OCA id' });
    const initial = plan.steering?.pathwayId;
    if (initial !== undefined && !ids.has(initial)) {
      ctx.addIssue({
        code: 'custom',
        path: ['steering', 'pathwayId'],
        message: 'is not one of the plan OCAs',
      });
    }
  });

/** Validates a plan from outside (an adapter's mapping of the control plane's answer). */
export function parsePlaybackPlan(value: unknown): PlaybackPlan | { error: string } {
  const parsed = playbackPlanSchema.safeParse(value);
  if (!parsed.success) {
    return { error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  }
  return parsed.data as PlaybackPlan;
}
