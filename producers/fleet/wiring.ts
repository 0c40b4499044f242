/**
 * The fleet's adapters from playloop's one config (core/config.ts): where ingest and the
 * control plane listen, and which ingest key the fleet uses. A listen address of 0.0.0.0 or
 * :: (PLAYLOOP_BIND_HOST in a container) is reached on loopback.
 */
import type { PlayloopConfig } from '../../core/config.ts';
import { httpPlanSource, httpSteeringSource } from './http-sources.ts';
import type { PlanSource, SteeringSource } from './plan.ts';
import { IngestSink, type IngestSinkOptions } from './sink.ts';

function reachable(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export function ingestEndpoint(config: PlayloopConfig): string {
  return `http://${reachable(config.ingest.host)}:${config.ingest.port}`;
}

export function controlPlaneUrl(config: PlayloopConfig): string {
  return `http://${reachable(config.controlPlane.host)}:${config.controlPlane.port}`;
}

/** An ingest sink on the configured ingest, with its first key. */
export function ingestSinkFromConfig(
  config: PlayloopConfig,
  options: Omit<IngestSinkOptions, 'endpoint' | 'key'> = {},
): IngestSink {
  const key = config.ingest.keys[0] as string;
  return new IngestSink({ ...options, endpoint: ingestEndpoint(config), key });
}

/** The control plane and its steering server, over HTTP. */
export function controlPlaneSources(
  config: PlayloopConfig,
  options: { readonly map?: (body: unknown) => unknown } = {},
): { planSource: PlanSource; steeringSource: SteeringSource } {
  return {
    planSource: httpPlanSource({
      baseUrl: controlPlaneUrl(config),
      ...(options.map === undefined ? {} : { map: options.map }),
    }),
    steeringSource: httpSteeringSource(),
  };
}
