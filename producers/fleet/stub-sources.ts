/**
 * Local stand-ins for the control plane and the steering server: deterministic, in-process,
 * answering at once. For unit tests and for offline timing-model runs (ground-truth
 * workloads) where no control plane is up. The real control plane client plugs into the
 * same `PlanSource` / `SteeringSource` interfaces.
 *
 * The stub ranks OCAs by proximity only (the `proximity-only` steering policy): the
 * player's own ISP's edges first, then the rest of its region, then other regions; ties keep
 * the listed order.
 */
import type { ExperimentCell } from '../../schemas/generated/playback-event.ts';
import type { AbrKnobsInput } from './abr/knobs.ts';
import type {
  PlanOca,
  PlanRendition,
  PlanRequest,
  PlanResult,
  PlanSource,
  PlanSteering,
  SteeringRequest,
  SteeringResult,
  SteeringSource,
} from './plan.ts';

/** The default ladder's renditions (control-plane/media/ladder-spec.ts DEFAULT_LADDER): video + 64 kbps audio. */
export const DEFAULT_RENDITIONS: readonly PlanRendition[] = Object.freeze(
  [
    { id: '240p', video: 400, width: 426, height: 240 },
    { id: '360p', video: 700, width: 640, height: 360 },
    { id: '480p', video: 1_200, width: 854, height: 480 },
    { id: '720p', video: 2_500, width: 1280, height: 720 },
  ].map((r) => ({
    id: r.id,
    // Capped VBR at 110 % of the target: the peak (BANDWIDTH) sits ~10 % over the average.
    bandwidthBps: Math.round((r.video + 64) * 1.1) * 1000,
    averageBandwidthBps: (r.video + 64) * 1000,
    width: r.width,
    height: r.height,
    playlist: `${r.id}/index.m3u8`,
  })),
);

/** OCAs shaped like the default OCA fleet (control-plane/oca/spec.ts defaultFleetSpec). */
export function defaultStubOcas(baseUrl = 'http://127.0.0.1:7100/'): PlanOca[] {
  const oca = (id: string, region: string, isp: string): PlanOca => ({
    id,
    baseUrl: `${baseUrl}${id}/`,
    region,
    isp,
  });
  return [
    oca('oca-edge-as3320-a', 'eu-central', 'AS3320'),
    oca('oca-edge-as3320-b', 'eu-central', 'AS3320'),
    oca('oca-storage-eu-central', 'eu-central', 'ix-fra'),
    oca('oca-edge-as7922-a', 'us-east', 'AS7922'),
    oca('oca-edge-as7922-b', 'us-east', 'AS7922'),
    oca('oca-storage-us-east', 'us-east', 'ix-nyc'),
  ];
}

export interface StubPlanOptions {
  readonly ocas?: readonly PlanOca[];
  readonly renditions?: readonly PlanRendition[];
  readonly durationMs?: number;
  readonly segmentDurationMs?: number;
  readonly abr?: AbrKnobsInput;
  /** A steering URI template; `{sessionId}` is replaced. Null: no steering. */
  readonly steeringUri?: string | null;
  readonly experiments?: (request: PlanRequest) => ExperimentCell[];
  /** Limit the plan to this many OCAs after ranking. */
  readonly maxOcas?: number;
  /** Name each session as the control plane does (the plan's `sessionId` is `<prefix><n>`). */
  readonly sessionIdPrefix?: string;
}

export function proximityRank(
  ocas: readonly PlanOca[],
  request: Pick<PlanRequest, 'isp' | 'region'>,
): PlanOca[] {
  const score = (o: PlanOca): number => (o.isp === request.isp ? 0 : o.region === request.region ? 1 : 2);
  return ocas
    .map((o, i) => ({ o, i }))
    .sort((a, b) => score(a.o) - score(b.o) || a.i - b.i)
    .map(({ o }) => o);
}

export function stubPlanSource(options: StubPlanOptions = {}): PlanSource {
  const ocas = options.ocas ?? defaultStubOcas();
  const renditions = options.renditions ?? DEFAULT_RENDITIONS;
  let count = 0;
  return {
    async getPlan(request: PlanRequest): Promise<PlanResult> {
      const ranked = proximityRank(ocas, request).slice(0, options.maxOcas ?? ocas.length);
      const template = options.steeringUri ?? null;
      const steering: PlanSteering | null =
        template === null
          ? null
          : {
              uri: template.replace('{sessionId}', encodeURIComponent(request.sessionId)),
              pathwayId: ranked[0]?.id,
            };
      count++;
      return {
        ok: true,
        plan: {
          planId: `stub-${count}`,
          ...(options.sessionIdPrefix === undefined
            ? {}
            : { sessionId: `${options.sessionIdPrefix}${count}` }),
          titleId: request.titleId,
          ocas: ranked,
          multivariant: 'master.m3u8',
          renditions,
          durationMs: options.durationMs ?? 45 * 60_000,
          segmentDurationMs: options.segmentDurationMs ?? 2_000,
          abr: options.abr ?? {},
          steering,
          experiments: options.experiments?.(request) ?? [],
        },
      };
    },
  };
}

export interface SteeringChange {
  /** From this time on (the clock the source is given) ... */
  readonly atMs: number;
  /** ... the manifest lists these pathways first (the rest of the plan's OCAs follow). */
  readonly pathwayPriority: readonly string[];
}

/**
 * A steering server following a script over a clock (the simulator's time, or the wall
 * clock): answers `{VERSION: 1, TTL, PATHWAY-PRIORITY}` per the current step. Before the
 * first step it answers with the requesting pathway alone (no change). Counts requests.
 */
export function scriptedSteeringSource(
  clock: () => number,
  changes: readonly SteeringChange[],
  ttlSec = 10,
): SteeringSource & { readonly requests: SteeringRequest[] } {
  const sorted = [...changes].sort((a, b) => a.atMs - b.atMs);
  const requests: SteeringRequest[] = [];
  return {
    requests,
    async fetch(request: SteeringRequest): Promise<SteeringResult> {
      requests.push(request);
      const now = clock();
      let priority: readonly string[] = [request.pathway];
      for (const c of sorted) if (c.atMs <= now) priority = c.pathwayPriority;
      return { ok: true, manifest: { version: 1, ttlSec, reloadUri: null, pathwayPriority: priority } };
    },
  };
}
