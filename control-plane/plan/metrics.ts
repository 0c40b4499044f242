/**
 * Prometheus metrics of one control-plane server, on a registry of its own (never
 * prom-client's global one), so two servers in one process, as in tests, do not collide.
 * Gauges that mirror state elsewhere (queue length, breaker state, config source) are read
 * when scraped, through `collect`, so the request path never updates them.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { BREAKER_STATE_VALUE, type BreakerState } from './breaker.ts';

export const CONFIG_SOURCES = ['kafka', 'snapshot', 'empty'] as const;

export interface MetricsSamples {
  readonly allocationsQueued: () => number;
  readonly allocationsDropped: () => Readonly<Record<string, number>>;
  readonly allocationsSent: () => number;
  readonly breakers: () => Readonly<Record<string, BreakerState>>;
  readonly configSources: () => Readonly<Record<string, string>>;
  readonly steeringSessions: () => number;
}

export type ControlPlaneMetrics = ReturnType<typeof createControlPlaneMetrics>;

/**
 * A counter whose truth lives elsewhere (the emitter counts as it goes): on each scrape it is
 * advanced by what was added since the last one, so it stays a true monotonic counter.
 */
class Mirror {
  private seen = 0;
  advance<L extends string>(counter: Counter<L>, total: number, labels?: Partial<Record<L, string>>): void {
    const delta = total - this.seen;
    if (delta <= 0) return;
    this.seen = total;
    if (labels === undefined) counter.inc(delta);
    else counter.inc(labels, delta);
  }
}

/** The OCA a plan ranked first, as the plan's metrics label it. */
export interface FirstOca {
  readonly oca: { readonly id: string };
  readonly proximity: string;
}

/** Distinct first OCAs held before they are added to the counter anyway (a bound, not a rate). */
const MAX_PENDING = 1_024;

export function createControlPlaneMetrics(samples: MetricsSamples, registry: Registry = new Registry()) {
  const registers = [registry];
  // Successful plans are counted as plain numbers and added to their counters when scraped:
  // prom-client hashes and validates the labels of every inc(), a cost paid per plan for
  // what a scrape every few seconds needs. Keyed by the ranked entry itself (the planner
  // shares one per cohort), so counting is one Map update.
  let plansOk = 0;
  const firstOcas = new Map<FirstOca, number>();
  const flushPlans = (): void => {
    if (plansOk > 0) plans.inc({ outcome: 'ok' }, plansOk);
    plansOk = 0;
    for (const [first, n] of firstOcas) firstOca.inc({ oca: first.oca.id, proximity: first.proximity }, n);
    firstOcas.clear();
  };
  const plans = new Counter({
    name: 'playloop_control_plane_plans_total',
    help: 'Playback plan requests by outcome: ok, or the error code returned.',
    labelNames: ['outcome'] as const,
    registers,
    collect: flushPlans,
  });
  const firstOca = new Counter({
    name: 'playloop_control_plane_plan_first_oca_total',
    help: 'Plans by the OCA ranked first and its proximity to the viewer.',
    labelNames: ['oca', 'proximity'] as const,
    registers,
    collect: flushPlans,
  });
  const sent = new Mirror();
  const droppedBy = new Map<string, Mirror>();
  const dropped = (reason: string): Mirror => {
    let mirror = droppedBy.get(reason);
    if (mirror === undefined) {
      mirror = new Mirror();
      droppedBy.set(reason, mirror);
    }
    return mirror;
  };
  return {
    registry,
    /** Failed plans by error code; successful ones go through planServed. */
    plans,
    firstOca,
    /** One successful plan, and the OCA it ranked first. */
    planServed(first: FirstOca): void {
      plansOk++;
      firstOcas.set(first, (firstOcas.get(first) ?? 0) + 1);
      if (firstOcas.size > MAX_PENDING) flushPlans();
    },
    planSeconds: new Histogram({
      name: 'playloop_control_plane_plan_seconds',
      help: 'Time to build a playback plan (handler only, successful plans).',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers,
    }),
    fallbacks: new Counter({
      name: 'playloop_control_plane_fallbacks_total',
      help: 'Plans served on a fallback: drained-only holders, presumed availability, experiments skipped.',
      labelNames: ['kind'] as const,
      registers,
    }),
    tokensIssued: new Counter({
      name: 'playloop_control_plane_viewer_tokens_issued_total',
      help: 'Viewer tokens issued by POST /v1/tokens.',
      registers,
    }),
    authFailures: new Counter({
      name: 'playloop_control_plane_auth_failures_total',
      help: 'Refused tokens by kind (viewer, session) and reason (missing, malformed, tampered, expired).',
      labelNames: ['token', 'reason'] as const,
      registers,
    }),
    steeringRequests: new Counter({
      name: 'playloop_control_plane_steering_requests_total',
      help: 'Content Steering manifest requests by the _HLS_pathway the player reported (none if absent).',
      labelNames: ['pathway'] as const,
      registers,
    }),
    steeringThroughput: new Histogram({
      name: 'playloop_control_plane_steering_throughput_bps',
      help: 'The _HLS_throughput players report on steering requests (hls.js bandwidth estimate, bit/s).',
      buckets: [250e3, 500e3, 1e6, 2e6, 4e6, 8e6, 16e6, 32e6, 64e6, 128e6],
      registers,
    }),
    steeringSessions: new Gauge({
      name: 'playloop_control_plane_steering_sessions',
      help: 'Sessions whose last steering telemetry is kept (bounded LRU).',
      registers,
      collect() {
        this.set(samples.steeringSessions());
      },
    }),
    allocationsQueued: new Gauge({
      name: 'playloop_control_plane_allocations_queued',
      help: 'Allocation events waiting to be produced.',
      registers,
      collect() {
        this.set(samples.allocationsQueued());
      },
    }),
    allocationsSent: new Counter({
      name: 'playloop_control_plane_allocations_sent_total',
      help: 'Allocation events acknowledged by Kafka.',
      registers,
      collect() {
        sent.advance(this, samples.allocationsSent());
      },
    }),
    allocationsDropped: new Counter({
      name: 'playloop_control_plane_allocations_dropped_total',
      help: 'Allocation events dropped, by reason: queue-full (the bound was hit), unencodable, shutdown.',
      labelNames: ['reason'] as const,
      registers,
      collect() {
        for (const [reason, n] of Object.entries(samples.allocationsDropped())) {
          dropped(reason).advance(this, n, { reason });
        }
      },
    }),
    breakerState: new Gauge({
      name: 'playloop_control_plane_breaker_state',
      help: 'Circuit breaker per dependency: 0 closed, 1 half-open, 2 open.',
      labelNames: ['dependency'] as const,
      registers,
      collect() {
        for (const [dependency, state] of Object.entries(samples.breakers())) {
          this.set({ dependency }, BREAKER_STATE_VALUE[state]);
        }
      },
    }),
    configSource: new Gauge({
      name: 'playloop_control_plane_config_source',
      help: 'Where each config table is served from: 1 for the current source (kafka, snapshot, empty).',
      labelNames: ['config', 'source'] as const,
      registers,
      collect() {
        for (const [config, current] of Object.entries(samples.configSources())) {
          for (const source of CONFIG_SOURCES) this.set({ config, source }, source === current ? 1 : 0);
        }
      },
    }),
  };
}
