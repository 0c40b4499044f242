/**
 * The fleet's client of the real control plane: a viewer token per viewer (POST /v1/tokens,
 * cached until shortly before it expires), then POST /v1/playback/:titleId with the device's
 * capabilities and network hints, and the answer translated into the fleet's PlaybackPlan.
 *
 * The control plane names the session (its id signs the media URLs and the steering token);
 * the plan's `planId` carries it, so the fleet's telemetry can be joined to the plan.
 */
import { errorMessage } from '../../core/errors.ts';
import { httpPlanSource } from './http-sources.ts';
import type { PlanRequest, PlanResult, PlanSource } from './plan.ts';

/** What a device of each class says it can play (RFC 6381 codecs, largest picture). */
const CAPABILITIES: Record<string, { width: number; height: number }> = {
  tv: { width: 3_840, height: 2_160 },
  console: { width: 3_840, height: 2_160 },
  stb: { width: 1_920, height: 1_080 },
  desktop: { width: 1_920, height: 1_080 },
  tablet: { width: 1_920, height: 1_080 },
  mobile: { width: 1_280, height: 720 },
};

interface CpPlan {
  sessionId: string;
  titleId: string;
  manifestUrl: string;
  steering: { uri: string; pathwayId: string } | null;
  ocas: Array<{ id: string; baseUrl: string; region: string; isp: string }>;
  renditions: Array<{
    id: string;
    width: number;
    height: number;
    bandwidth: number;
    averageBandwidth: number;
    playlist: string;
  }>;
  abr: { knobs: Record<string, number> };
  experiments: Array<{ key: string; cell: string }>;
}

function isCpPlan(body: unknown): body is CpPlan {
  return (
    typeof body === 'object' && body !== null && 'sessionId' in body && 'ocas' in body && 'renditions' in body
  );
}

/** The fleet's knob names are hls.js's and dash.js's, as the control plane's. */
function toFleetPlan(body: unknown): unknown {
  if (!isCpPlan(body)) return body;
  return {
    planId: body.sessionId,
    sessionId: body.sessionId,
    titleId: body.titleId,
    ocas: body.ocas.map((o) => ({ id: o.id, baseUrl: o.baseUrl, region: o.region, isp: o.isp })),
    multivariant: body.manifestUrl,
    renditions: [...body.renditions]
      .sort((a, b) => a.bandwidth - b.bandwidth)
      .map((r) => ({
        id: r.id,
        bandwidthBps: r.bandwidth,
        averageBandwidthBps: r.averageBandwidth,
        width: r.width,
        height: r.height,
        playlist: r.playlist,
      })),
    abr: body.abr.knobs,
    steering: body.steering === null ? null : { uri: body.steering.uri, pathwayId: body.steering.pathwayId },
    experiments: body.experiments.map((e) => ({ key: e.key, cell: e.cell })),
  };
}

export interface ControlPlanePlanSourceOptions {
  readonly baseUrl: string;
  /** The content every title is encoded as (the timing mode reads no playlist). */
  readonly durationMs: number;
  readonly segmentDurationMs: number;
  readonly fetch?: typeof fetch;
}

export function controlPlanePlanSource(options: ControlPlanePlanSourceOptions): PlanSource {
  const fetchFn = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const base = options.baseUrl.replace(/\/+$/, '');
  const tokens = new Map<string, { token: string; expiresAtSec: number }>();

  async function tokenFor(viewerId: string): Promise<string> {
    const cached = tokens.get(viewerId);
    if (cached && cached.expiresAtSec * 1000 - Date.now() > 60_000) return cached.token;
    const res = await fetchFn(`${base}/v1/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ viewerId }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`token for ${viewerId}: ${res.status} ${(await res.text()).slice(0, 200)}`);
    const issued = (await res.json()) as { token: string; expiresAtSec: number };
    tokens.set(viewerId, issued);
    return issued.token;
  }

  return {
    async getPlan(request: PlanRequest): Promise<PlanResult> {
      let token: string;
      try {
        token = await tokenFor(request.viewerId);
      } catch (err) {
        return { ok: false, failure: { httpStatus: null, message: errorMessage(err) } };
      }
      const resolution = CAPABILITIES[request.deviceClass] ?? { width: 1_920, height: 1_080 };
      const inner = httpPlanSource({
        baseUrl: base,
        fetch: (input, init) =>
          fetchFn(input, {
            ...init,
            headers: { ...(init?.headers as Record<string, string>), authorization: `Bearer ${token}` },
            body: JSON.stringify({
              device: {
                class: request.deviceClass,
                codecs: ['avc1', 'mp4a.40.2'],
                maxResolution: resolution,
              },
              network: { isp: request.isp, region: request.region, country: request.country },
            }),
          }),
        map: (body) => {
          const plan = toFleetPlan(body);
          return typeof plan === 'object' && plan !== null
            ? { ...plan, durationMs: options.durationMs, segmentDurationMs: options.segmentDurationMs }
            : plan;
        },
      });
      return inner.getPlan(request);
    },
  };
}
