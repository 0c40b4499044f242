/**
 * The `control-plane` role: playback plans, viewer tokens, steered multivariant playlists
 * and Content Steering manifests (control-plane/plan/server.ts), fed by
 *
 * - config.steering and config.abr, followed as compacted topics (last good config from a
 *   snapshot when Kafka or the schema registry is away);
 * - the experiment definitions in `controlPlane.experimentsDir`, validated at start
 *   (an invalid set refuses to start: that is a deployment error, not an outage);
 * - the catalog (the default encoded ladder shared by `controlPlane.catalogTitles` titles);
 * - the OCA fleet: by default started here (control-plane/oca startConfiguredOcaFleet, its
 *   CMCD forwarded to ingest), or run elsewhere at the addresses of config.oca;
 * - availability predicted from ClickHouse views, refreshed in the background behind a
 *   circuit breaker;
 * and it writes allocation events to `experiment.allocations` through a bounded, batched
 * emitter behind another breaker, whose Kafka producer runs on a worker thread.
 *
 * Start never waits on a dependency being up except the schema registry and Kafka for at
 * most `configCatchUpTimeoutMs`; `stop()` closes the server (in-flight requests finish),
 * then sends what is queued (bounded wait), then stops the readers.
 */
import { join } from 'node:path';
import { collectDefaultMetrics } from 'prom-client';
import type { RoleContext, RunningRole } from '../cli/role.ts';
import type { PlayloopConfig } from '../core/config.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { AssignableExperiment } from '../experiments/assignment/assign.ts';
import { loadExperiments } from '../experiments/definitions/validate.ts';
import { createKafka, ensureTopics, withAdmin } from '../infra/kafka.ts';
import { AvroCodec, createRegistry } from '../infra/registry.ts';
import { createTableLookup } from '../producers/ingest/ip-lookup.ts';
import type { AbrConfig } from '../schemas/generated/abr-config.ts';
import { schema as abrSchema } from '../schemas/generated/abr-config.ts';
import {
  schema as allocationSchema,
  type ExperimentAllocation,
} from '../schemas/generated/experiment-allocation.ts';
import type { SteeringConfig } from '../schemas/generated/steering-config.ts';
import { schema as steeringSchema } from '../schemas/generated/steering-config.ts';
import { type Catalog, defaultTitleIds, sharedLadderCatalog } from './media/catalog.ts';
import { ensureLadder } from './media/ladder.ts';
import { DEFAULT_LADDER } from './media/ladder-spec.ts';
import { type CmcdForwarder, createCmcdForwarder } from './oca/cmcd-forward.ts';
import type { OcaFleet } from './oca/fleet.ts';
import { startConfiguredOcaFleet } from './oca/index.ts';
import { defaultFleetSpec, portOf } from './oca/spec.ts';
import { ALLOCATION_ACK_TIMEOUT_MS } from './plan/allocation-producer.ts';
import { threadedAllocationProducer } from './plan/allocation-thread.ts';
import { AllocationEmitter } from './plan/allocations.ts';
import { AvailabilityRefresher, queryRegionalViews } from './plan/availability-refresher.ts';
import { ResilientConfig } from './plan/config-reader.ts';
import type { OcaDescriptor } from './plan/ranking.ts';
import { buildControlPlaneServer, type ControlPlaneSettings, type LocationLookup } from './plan/server.ts';
import { keyringFromConfig } from './signing/url-signing.ts';

export type { ControlPlaneDeps, ControlPlaneServer } from './plan/server.ts';
export { buildControlPlaneServer } from './plan/server.ts';

/** What a caller may hand in instead of the defaults (the lead's wiring, tests). */
export interface ControlPlaneOverrides {
  readonly ocas?: readonly OcaDescriptor[];
  readonly catalog?: Catalog;
  readonly experiments?: readonly AssignableExperiment[];
  readonly locationLookup?: LocationLookup;
}

/** The server settings from the one config. */
export function controlPlaneSettings(config: PlayloopConfig): ControlPlaneSettings {
  const cp = config.controlPlane;
  return {
    publicUrl: cp.publicUrl?.replace(/\/+$/, ''),
    tokenKeys: cp.tokenKeys,
    viewerTokenTtlSec: cp.viewerTokenTtlSec,
    devTokenIssuance: cp.devTokenIssuance,
    urlTtlSec: config.signing.urlTtlSec,
    steering: cp.steering,
  };
}

/** A wildcard bind address is no address to connect to: loopback stands in for it. */
function reachable(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}

/**
 * The default fleet's OCAs with the URLs players reach them at. A wildcard bind address is
 * no address to hand a player: loopback stands in for it (set explicit OCAs otherwise).
 */
export function defaultOcaDescriptors(config: PlayloopConfig): OcaDescriptor[] {
  const spec = defaultFleetSpec(config.oca);
  const host = reachable(spec.host);
  return spec.ocas.map((oca, i) => ({
    id: oca.id,
    tier: oca.tier,
    region: oca.region,
    isp: oca.isp,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${portOf(spec, i)}`,
    capacityBytes: oca.capacityBytes,
  }));
}

async function ensureControlPlaneTopics(config: PlayloopConfig, log: Logger): Promise<void> {
  const kafka = createKafka(
    { ...config.kafka, clientId: `${config.kafka.clientId}-control-plane-admin` },
    { retry: { retries: 1 } },
  );
  try {
    await withAdmin(kafka, (admin) =>
      ensureTopics(admin, [
        { topic: config.topics.steering, partitions: 1, compacted: true },
        { topic: config.topics.abr, partitions: 1, compacted: true },
        { topic: config.topics.allocations, partitions: config.topics.partitions },
      ]),
    );
  } catch (err) {
    // Playback does not need Kafka: the readers and the emitter retry on their own.
    log.warn({ err: errorMessage(err) }, 'control plane: could not ensure its topics; going on');
  }
}

/** How often a missing allocation schema registration is tried again. */
const REGISTRY_RETRY_MS = 3_000;

export function startControlPlane(ctx: RoleContext): Promise<RunningRole> {
  return startControlPlaneWith(ctx, {});
}

export async function startControlPlaneWith(
  ctx: RoleContext,
  overrides: ControlPlaneOverrides,
): Promise<RunningRole> {
  const { config } = ctx;
  const cp = config.controlPlane;
  const log = ctx.log.child({ role: 'control-plane' });

  const experiments = overrides.experiments ?? (await loadExperiments(cp.experimentsDir));
  // The OCAs: handed in, started here (embedded), or elsewhere at config.oca's addresses.
  let embedded: { fleet: OcaFleet; forwarder: CmcdForwarder } | undefined;
  let catalog: Catalog;
  let ocas: readonly OcaDescriptor[];
  if (overrides.ocas === undefined && overrides.catalog === undefined && cp.ocaFleet === 'embedded') {
    const forwarder = createCmcdForwarder({
      ingestUrl: `http://${reachable(config.ingest.host)}:${config.ingest.port}`,
      ingestKey: config.ingest.keys[0] as string,
      log,
    });
    const started = await startConfiguredOcaFleet(config, {
      log,
      titleIds: defaultTitleIds(cp.catalogTitles),
      onCmcd: forwarder.onCmcd,
      signal: ctx.signal,
    });
    embedded = { fleet: started.fleet, forwarder };
    catalog = started.catalog;
    ocas = started.fleet.ocas;
  } else {
    catalog =
      overrides.catalog ??
      sharedLadderCatalog(
        defaultTitleIds(cp.catalogTitles),
        await ensureLadder(config.dataDir, DEFAULT_LADDER, { log, signal: ctx.signal }),
      );
    ocas = overrides.ocas ?? defaultOcaDescriptors(config);
  }
  const stopFleet = async (): Promise<void> => {
    if (embedded === undefined) return;
    await embedded.fleet.stop();
    await embedded.forwarder.drain();
  };

  await ensureControlPlaneTopics(config, log);
  const kafka = createKafka({ ...config.kafka, clientId: `${config.kafka.clientId}-control-plane` });
  const registry = createRegistry(config.registry.url);
  const snapshotDir = join(config.dataDir, 'control-plane');
  const steering = new ResilientConfig<SteeringConfig>({
    kafka,
    registry,
    topic: config.topics.steering,
    schema: steeringSchema,
    snapshotFile: join(snapshotDir, `${config.topics.steering}.json`),
    catchUpTimeoutMs: cp.configCatchUpTimeoutMs,
    log,
  });
  const abr = new ResilientConfig<AbrConfig>({
    kafka,
    registry,
    topic: config.topics.abr,
    schema: abrSchema,
    snapshotFile: join(snapshotDir, `${config.topics.abr}.json`),
    catchUpTimeoutMs: cp.configCatchUpTimeoutMs,
    log,
  });
  await Promise.all([steering.start(), abr.start()]);

  // The allocation codec: registered now if the registry answers, else before a later flush
  // (at most every few seconds); until then events wait in the bounded queue.
  let allocationCodec: AvroCodec<ExperimentAllocation> | undefined;
  let lastAttemptMs = 0;
  const allocationCodecReady = async (): Promise<boolean> => {
    if (allocationCodec !== undefined) return true;
    if (Date.now() - lastAttemptMs < REGISTRY_RETRY_MS) return false;
    lastAttemptMs = Date.now();
    try {
      allocationCodec = await AvroCodec.register<ExperimentAllocation>(
        registry,
        config.topics.allocations,
        allocationSchema,
      );
      return true;
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 'allocation schema not registered yet; events stay queued');
      return false;
    }
  };
  await allocationCodecReady();
  // kafkajs on a thread of its own, off the event loop that serves plans (allocation-thread.ts).
  const producer = threadedAllocationProducer({
    kafka: { ...config.kafka, clientId: `${config.kafka.clientId}-control-plane-allocations` },
    topic: config.topics.allocations,
    ackTimeoutMs: ALLOCATION_ACK_TIMEOUT_MS,
  });
  const emitter = new AllocationEmitter({
    prepare: allocationCodecReady,
    encode: (event) => {
      if (allocationCodec === undefined) throw new TypeError('allocation codec not registered');
      return allocationCodec.encode(event);
    },
    send: (records) => producer.send(records),
    maxQueued: cp.allocations.maxQueued,
    maxBatch: cp.allocations.maxBatch,
    flushIntervalMs: cp.allocations.flushIntervalMs,
    breaker: cp.breaker,
    log,
  });
  emitter.start();

  const availability = new AvailabilityRefresher({
    ocas,
    catalog,
    settings: cp.availability,
    breaker: cp.breaker,
    readViews: async () => queryRegionalViews(await ctx.clickhouse(), cp.availability.lookbackHours),
    log,
  });
  // Not awaited: a slow or absent ClickHouse must not hold up the start.
  void availability.start();

  const server = buildControlPlaneServer({
    settings: controlPlaneSettings(config),
    catalog,
    ocas,
    steering,
    abr,
    experiments: () => experiments,
    availability,
    allocations: emitter,
    mediaKeyring: keyringFromConfig(config.signing.keys),
    log,
    locationLookup: overrides.locationLookup ?? createTableLookup(),
    breakers: () => ({
      'kafka-allocations': emitter.stats().breaker,
      'clickhouse-availability': availability.health().breaker,
    }),
  });
  collectDefaultMetrics({ register: server.metrics.registry });
  try {
    await server.app.listen({ host: cp.host, port: cp.port });
  } catch (err) {
    await Promise.allSettled([emitter.close(0), producer.close(), steering.stop(), abr.stop(), stopFleet()]);
    availability.stop();
    throw err;
  }
  const address = server.app.server.address();
  const base = `http://${cp.host}:${address !== null && typeof address === 'object' ? address.port : cp.port}`;
  log.info(
    {
      ocas: ocas.length,
      titles: catalog.titleIds.length,
      experiments: experiments.filter((e) => e.status === 'running').map((e) => e.key),
      steering: steering.health().source,
      abr: abr.health().source,
    },
    `control plane: listening on ${base}`,
  );

  let stopping: Promise<void> | undefined;
  return {
    name: 'control-plane',
    metrics: server.metrics.registry,
    addresses: [
      `${base}/v1/playback/:titleId`,
      `${base}/v1/steering/:sessionId`,
      `${base}/metrics`,
      ...(embedded === undefined ? [] : embedded.fleet.ocas.map((o) => `${o.url} (${o.id})`)),
    ],
    stop() {
      stopping ??= (async () => {
        await server.app.close();
        await emitter.close();
        const stats = emitter.stats();
        await Promise.allSettled([producer.close(), steering.stop(), abr.stop(), stopFleet()]);
        availability.stop();
        log.info({ sent: stats.sent, dropped: stats.dropped }, 'control plane: stopped');
      })();
      return stopping;
    },
  };
}
