/**
 * Prometheus metrics of one OCA, in a registry of its own (never prom-client's global one):
 * each OCA is its own scrape target, like a real appliance, and several fleets can live in
 * one process (tests) without name clashes. Default labels say which OCA it is.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { OcaSpec } from './spec.ts';

export type OcaMetrics = ReturnType<typeof createOcaMetrics>;

export function createOcaMetrics(spec: OcaSpec) {
  const registry = new Registry();
  registry.setDefaultLabels({ oca: spec.id, tier: spec.tier, region: spec.region, isp: spec.isp });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: 'playloop_oca_requests_total',
      help: 'Media requests by object kind and HTTP status.',
      labelNames: ['kind', 'status'] as const,
      registers,
    }),
    bytesServed: new Counter({
      name: 'playloop_oca_served_bytes_total',
      help: 'Body bytes sent for successful media requests.',
      labelNames: ['kind'] as const,
      registers,
    }),
    responseSeconds: new Histogram({
      name: 'playloop_oca_response_seconds',
      help: 'Time from request to last byte of media responses.',
      labelNames: ['kind'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16],
      registers,
    }),
    forbidden: new Counter({
      name: 'playloop_oca_forbidden_total',
      help: 'Requests refused because the signed URL failed verification.',
      labelNames: ['reason'] as const,
      registers,
    }),
    cacheLookups: new Counter({
      name: 'playloop_oca_cache_lookups_total',
      help: 'Edge cache lookups by result (hit or miss).',
      labelNames: ['result'] as const,
      registers,
    }),
    fillBytes: new Counter({
      name: 'playloop_oca_fill_bytes_total',
      help: 'Bytes an edge fetched from its storage OCA, by reason (miss or proactive).',
      labelNames: ['reason'] as const,
      registers,
    }),
    evictions: new Counter({
      name: 'playloop_oca_cache_evictions_total',
      help: 'Objects evicted from the edge cache.',
      registers,
    }),
    cacheBytes: new Gauge({
      name: 'playloop_oca_cache_bytes',
      help: 'Bytes held in the edge cache.',
      registers,
    }),
    cacheObjects: new Gauge({
      name: 'playloop_oca_cache_objects',
      help: 'Objects in the edge cache.',
      registers,
    }),
    cacheCapacityBytes: new Gauge({
      name: 'playloop_oca_cache_capacity_bytes',
      help: 'Edge cache capacity.',
      registers,
    }),
    upstreamErrors: new Counter({
      name: 'playloop_oca_upstream_errors_total',
      help: 'Failed fills from the storage OCA.',
      registers,
    }),
    injectedErrors: new Counter({
      name: 'playloop_oca_injected_errors_total',
      help: '503 answers injected by the degradation error rate.',
      registers,
    }),
    degradationLatencyMs: new Gauge({
      name: 'playloop_oca_degradation_latency_ms',
      help: 'Added latency before the first byte (0 when healthy).',
      registers,
    }),
    degradationThroughputKbps: new Gauge({
      name: 'playloop_oca_degradation_throughput_kbps',
      help: 'Per-connection throughput cap (0 when uncapped).',
      registers,
    }),
    degradationErrorRate: new Gauge({
      name: 'playloop_oca_degradation_error_rate',
      help: 'Probability of an injected 503.',
      registers,
    }),
    cmcdRequests: new Counter({
      name: 'playloop_oca_cmcd_requests_total',
      help: 'Media requests that carried CMCD (CTA-5004), by object type `ot`.',
      labelNames: ['ot'] as const,
      registers,
    }),
    cmcdBufferSeconds: new Histogram({
      name: 'playloop_oca_cmcd_buffer_length_seconds',
      help: 'Player buffer length reported in CMCD `bl`.',
      buckets: [0.5, 1, 2, 4, 6, 8, 12, 20, 30, 60],
      registers,
    }),
    cmcdMeasuredThroughputKbps: new Histogram({
      name: 'playloop_oca_cmcd_measured_throughput_kbps',
      help: 'Player-measured throughput reported in CMCD `mtp`.',
      buckets: [100, 250, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 50_000, 100_000],
      registers,
    }),
  };
}
