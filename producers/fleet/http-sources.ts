/**
 * HTTP implementations of the fleet's sources: a steering server client (HLS Content
 * Steering: GET the steering URI with `_HLS_pathway` and `_HLS_throughput`, read the JSON
 * manifest) and a control plane client for POST /v1/playback/:titleId.
 *
 * The control plane's answer is still being designed; `httpPlanSource` expects it in the
 * fleet's `PlaybackPlan` shape unless a `map` function translates it, and validates the
 * result (plan.ts) either way, so a contract drift shows up as a clear VSF with the reason,
 * not as a crash.
 */
import { errorMessage } from '../../core/errors.ts';
import {
  type PlanRequest,
  type PlanResult,
  type PlanSource,
  parsePlaybackPlan,
  parseSteeringManifest,
  type SteeringRequest,
  type SteeringResult,
  type SteeringSource,
  steeringRequestUrl,
} from './plan.ts';

export interface HttpSourceOptions {
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}

export function httpSteeringSource(options: HttpSourceOptions = {}): SteeringSource {
  const fetchFn = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    async fetch(request: SteeringRequest): Promise<SteeringResult> {
      try {
        const res = await fetchFn(steeringRequestUrl(request), { signal: AbortSignal.timeout(timeoutMs) });
        const text = await res.text();
        if (!res.ok) return { ok: false, httpStatus: res.status, message: text.slice(0, 200) };
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          return { ok: false, httpStatus: res.status, message: 'steering manifest is not JSON' };
        }
        const manifest = parseSteeringManifest(body, request.uri);
        if ('error' in manifest) return { ok: false, httpStatus: res.status, message: manifest.error };
        return { ok: true, manifest };
      } catch (err) {
        return { ok: false, httpStatus: null, message: errorMessage(err) };
      }
    },
  };
}

export interface HttpPlanSourceOptions extends HttpSourceOptions {
  /** Control plane base URL, e.g. http://127.0.0.1:7071. */
  readonly baseUrl: string;
  /** Translates the control plane's answer into a PlaybackPlan-shaped value. */
  readonly map?: (body: unknown, request: PlanRequest) => unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export function httpPlanSource(options: HttpPlanSourceOptions): PlanSource {
  const fetchFn = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const base = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    async getPlan(request: PlanRequest): Promise<PlanResult> {
      try {
        const res = await fetchFn(`${base}/v1/playback/${encodeURIComponent(request.titleId)}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            // The control plane may place the player by its address, as a real one would.
            'x-forwarded-for': request.clientAddress,
            ...options.headers,
          },
          body: JSON.stringify({
            sessionId: request.sessionId,
            viewerId: request.viewerId,
            deviceClass: request.deviceClass,
          }),
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await res.text();
        if (!res.ok) return { ok: false, failure: { httpStatus: res.status, message: text.slice(0, 300) } };
        const body: unknown = JSON.parse(text);
        const plan = parsePlaybackPlan(options.map === undefined ? body : options.map(body, request));
        if ('error' in plan) {
          return {
            ok: false,
            failure: { httpStatus: res.status, message: `plan does not fit: ${plan.error}` },
          };
        }
        return { ok: true, plan };
      } catch (err) {
        return { ok: false, failure: { httpStatus: null, message: errorMessage(err) } };
      }
    },
  };
}
