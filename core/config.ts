/**
 * playloop's one configuration: environment variables over an optional YAML/JSON file
 * over defaults, validated once at start, frozen, and passed to every role.
 *
 * Errors name the bad key and where it came from (`kafka.brokers (KAFKA_BROKERS): ...`).
 * Topic names, table names and ports live here and nowhere else.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { PlayloopError } from './errors.ts';

const port = z.coerce.number().int().min(1).max(65_535);
const host = z.string().min(1);
const csv = z.preprocess(
  (v) =>
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0)
      : v,
  z.array(z.string().min(1)),
);
const httpUrl = z.url({ protocol: /^https?$/ });
/** A comma-separated list of `keyId:secret` HMAC keys: the first one signs, every one verifies. */
const keyring = (devDefault: string) =>
  csv
    .pipe(
      z
        .array(
          z
            .string()
            .regex(
              /^[A-Za-z0-9_-]{1,32}:.{16,}$/,
              'expected keyId:secret (keyId [A-Za-z0-9_-], secret of 16+ characters)',
            ),
        )
        .min(1),
    )
    .default([devDefault]);

export const configSchema = z.strictObject({
  /** Where every role keeps its state: embedded ClickHouse, media cache, local stack. */
  dataDir: z.string().min(1).default('.playloop'),
  kafka: z
    .strictObject({
      brokers: csv
        .pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, 'expected host:port')).min(1))
        .default(['127.0.0.1:9092']),
      clientId: z.string().min(1).default('playloop'),
      connectionTimeoutMs: z.coerce.number().int().positive().default(3_000),
      requestTimeoutMs: z.coerce.number().int().positive().default(30_000),
    })
    .prefault({}),
  registry: z
    .strictObject({
      /** Confluent-compatible API root; Apicurio serves it at /apis/ccompat/v7. */
      url: httpUrl.default('http://127.0.0.1:8081/apis/ccompat/v7'),
    })
    .prefault({}),
  clickhouse: z
    .strictObject({
      /** A real server when set; embedded chDB under dataDir otherwise. */
      url: httpUrl.optional(),
      database: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an identifier')
        .default('playloop'),
      username: z.string().default('default'),
      password: z.string().default(''),
    })
    .prefault({}),
  topics: z
    .strictObject({
      events: z.string().min(1).default('playback.events'),
      eventsDlq: z.string().min(1).default('playback.events.dlq'),
      sessions: z.string().min(1).default('playback.sessions'),
      allocations: z.string().min(1).default('experiment.allocations'),
      steering: z.string().min(1).default('config.steering'),
      abr: z.string().min(1).default('config.abr'),
      partitions: z.coerce.number().int().min(1).default(4),
    })
    .prefault({}),
  ingest: z
    .strictObject({
      host: host.default('127.0.0.1'),
      port: port.default(7070),
      /** Bearer keys accepted by POST /v1/events. */
      keys: csv
        .pipe(z.array(z.string().min(8, 'ingest keys must be at least 8 characters')).min(1))
        .default(['playloop-local-dev-key']),
      /** Largest request body; over it the answer is 413 before the body is read in full. */
      maxBodyBytes: z.coerce.number().int().min(1_024).default(1_048_576),
      /** Most events in one POST /v1/events batch; more is 413. */
      maxEventsPerBatch: z.coerce.number().int().min(1).default(500),
      /** Token bucket per ingest key, counted in events (a batch of 100 costs 100). */
      rateLimit: z
        .strictObject({
          eventsPerSecond: z.coerce.number().positive().default(250_000),
          burstEvents: z.coerce.number().int().min(1).default(500_000),
        })
        .prefault({}),
      /** Request bytes held between parse and Kafka's ack; over it the answer is 503. */
      maxInFlightBytes: z.coerce
        .number()
        .int()
        .min(1_024)
        .default(64 * 1_048_576),
      /** Retry-After for 503 answers (Kafka down, in-flight bound reached, draining). */
      retryAfterSeconds: z.coerce.number().int().min(1).default(1),
      /**
       * Which client timestamps are believed. The batch's `sentAt` minus the server's receive
       * time estimates the client's clock skew; an event's clientTs, corrected by that skew,
       * must lie within [receivedAt - maxPastMs, receivedAt + maxFutureMs].
       */
      clock: z
        .strictObject({
          maxSkewMs: z.coerce
            .number()
            .int()
            .min(0)
            .default(366 * 86_400_000),
          maxFutureMs: z.coerce
            .number()
            .int()
            .min(0)
            .default(5 * 60_000),
          maxPastMs: z.coerce.number().int().min(0).default(86_400_000),
        })
        .prefault({}),
      /** The Kafka producer behind ingest: idempotent, acks=-1, one send per coalesced batch. */
      produce: z
        .strictObject({
          /** Broker-side ack timeout of one produce request. */
          ackTimeoutMs: z.coerce.number().int().positive().default(5_000),
          /** kafkajs retries before a send fails and its requests get 503. */
          retries: z.coerce.number().int().min(1).default(5),
          /**
           * Largest coalesced send, in record bytes. Kafka refuses a record batch (one per
           * partition per send) over message.max.bytes, 1 MiB by default: keep well under it.
           * The floor leaves room for the largest dead letter (a 256 KiB payload).
           */
          maxBatchBytes: z.coerce
            .number()
            .int()
            .min(300 * 1_024)
            .default(768 * 1_024),
          /**
           * Largest coalesced send, in records. kafkajs groups a send's messages by partition
           * copying the partition's array per message (quadratic): measured at ~2 µs/record
           * for 1,000 records and ~4 µs for 4,000.
           */
          maxBatchRecords: z.coerce.number().int().min(1).default(1_000),
          /** How often a down Kafka is probed for recovery. */
          probeIntervalMs: z.coerce.number().int().positive().default(500),
        })
        .prefault({}),
      /**
       * Proxies whose X-Forwarded-For is believed for the client address (fastify trustProxy):
       * addresses or CIDRs. Empty: the socket's peer address is the client.
       */
      trustedProxies: csv.default([]),
    })
    .superRefine((ingest, ctx) => {
      // Contradictions are errors, not silent fixes: each of these would refuse every request
      // of legal size forever.
      if (ingest.rateLimit.burstEvents < ingest.maxEventsPerBatch) {
        ctx.addIssue({
          code: 'custom',
          path: ['rateLimit', 'burstEvents'],
          message: `must be at least maxEventsPerBatch (${ingest.maxEventsPerBatch}), or a full batch could never pass`,
        });
      }
      if (ingest.maxInFlightBytes < ingest.maxBodyBytes) {
        ctx.addIssue({
          code: 'custom',
          path: ['maxInFlightBytes'],
          message: `must be at least maxBodyBytes (${ingest.maxBodyBytes}), or a body of legal size could never be taken`,
        });
      }
    })
    .prefault({}),
  controlPlane: z
    .strictObject({
      host: host.default('127.0.0.1'),
      /** 0: an ephemeral port (tests); the role reports the one it got. */
      port: z.coerce.number().int().min(0).max(65_535).default(7071),
      /**
       * Base URL players reach the control plane at: the steered multivariant playlist and the
       * Content Steering SERVER-URI in a plan start with it. Default: http://<host>:<port>.
       */
      publicUrl: httpUrl.optional(),
      /**
       * `keyId:secret` pairs for viewer and session tokens (HS256 JWTs). The first key signs,
       * every key verifies: rotate like signing.keys.
       */
      tokenKeys: keyring('dev1:playloop-local-dev-token-key'),
      viewerTokenTtlSec: z.coerce.number().int().positive().default(86_400),
      /** POST /v1/tokens hands a viewer token to anyone who names a viewer id: development only. */
      devTokenIssuance: z.boolean().default(true),
      /** Experiment definitions (YAML) the control plane allocates viewers with. */
      experimentsDir: z.string().min(1).default('experiments'),
      /** Titles in the catalog (`title-001` ...), all sharing the default encoded ladder. */
      catalogTitles: z.coerce.number().int().min(1).max(100_000).default(20),
      /**
       * `embedded`: the role starts the default OCA fleet (config.oca) in its own process and
       * forwards the OCAs' CMCD to ingest; `external`: the fleet runs elsewhere, at the
       * addresses config.oca gives.
       */
      ocaFleet: z.enum(['embedded', 'external']).default('embedded'),
      /** How long start waits for the config topics to catch up before serving what it has. */
      configCatchUpTimeoutMs: z.coerce.number().int().positive().default(10_000),
      steering: z
        .strictObject({
          /** TTL when no steering config says one. */
          ttlSec: z.coerce.number().int().positive().default(10),
          /**
           * Lowest TTL ever served: hls.js honours any TTL, and 0 would make every player
           * reload the steering manifest in a loop (DESIGN.md, Content Steering).
           */
          ttlFloorSec: z.coerce.number().int().positive().default(2),
          ttlCeilingSec: z.coerce.number().int().positive().default(300),
          /** Policy for viewers outside any steering experiment (vocabulary: STEERING_POLICIES). */
          defaultPolicy: z.enum(['proximity-only', 'health-weighted']).default('health-weighted'),
          /** Sessions whose last _HLS_pathway/_HLS_throughput are kept (LRU). */
          telemetrySessions: z.coerce.number().int().min(1).default(50_000),
        })
        .superRefine((s, ctx) => {
          if (s.ttlFloorSec > s.ttlCeilingSec) {
            ctx.addIssue({ code: 'custom', path: ['ttlFloorSec'], message: 'must not exceed ttlCeilingSec' });
          }
          if (s.ttlSec < s.ttlFloorSec || s.ttlSec > s.ttlCeilingSec) {
            ctx.addIssue({
              code: 'custom',
              path: ['ttlSec'],
              message: `must lie within [ttlFloorSec, ttlCeilingSec] = [${s.ttlFloorSec}, ${s.ttlCeilingSec}]`,
            });
          }
        })
        .prefault({}),
      /** Allocation events: produced in batches off the request path, from a bounded queue. */
      allocations: z
        .strictObject({
          /** Events held while Kafka is slow or away; past it new events are dropped and counted. */
          maxQueued: z.coerce.number().int().min(1).default(50_000),
          /** One send at a time (idempotent producer, order kept): big batches keep up with peaks. */
          maxBatch: z.coerce.number().int().min(1).default(2_000),
          flushIntervalMs: z.coerce.number().int().positive().default(100),
        })
        .superRefine((a, ctx) => {
          if (a.maxBatch > a.maxQueued) {
            ctx.addIssue({
              code: 'custom',
              path: ['maxBatch'],
              message: `must not exceed maxQueued (${a.maxQueued}): a batch is taken from the queue`,
            });
          }
        })
        .prefault({}),
      /** Which edge OCA holds which title: predicted from ClickHouse views, off the request path. */
      availability: z
        .strictObject({
          refreshIntervalMs: z.coerce.number().int().positive().default(60_000),
          lookbackHours: z.coerce.number().positive().default(24),
          halfLifeHours: z.coerce.number().positive().default(6),
          /** Share of an edge's cache the proactive fill uses (as the OCA fleet's fill does). */
          fillBudgetFraction: z.coerce.number().gt(0).max(1).default(0.8),
        })
        .prefault({}),
      /** Circuit breaker (opossum) settings for each dependency (Kafka produce, ClickHouse). */
      breaker: z
        .strictObject({
          timeoutMs: z.coerce.number().int().positive().default(5_000),
          errorThresholdPercentage: z.coerce.number().gt(0).max(100).default(50),
          resetTimeoutMs: z.coerce.number().int().positive().default(10_000),
          /** Calls in the rolling window before the breaker may open. */
          volumeThreshold: z.coerce.number().int().min(0).default(3),
        })
        .prefault({}),
    })
    .prefault({}),
  processors: z
    .strictObject({
      /** Consumer groups are `<groupPrefix>.<processor>`; one prefix per deployment. */
      groupPrefix: z.string().min(1).default('playloop'),
      /** Tumbling windows the qoe processor materialises, in seconds. */
      windowSizesSec: z
        .preprocess(
          (v) => (typeof v === 'string' ? v.split(',').map((s) => Number(s.trim())) : v),
          z.array(z.number().int().min(1).max(86_400)).min(1),
        )
        .default([10, 60]),
      /** How often processors flush sinks, recompute windows and commit offsets. */
      tickIntervalMs: z.coerce.number().int().min(50).default(1_000),
      /** Session rows buffered before an insert that does not wait for the tick. */
      maxBufferedRows: z.coerce.number().int().min(1).default(5_000),
      /** The sessionizer (processors/sessionize/README.md); caps are split over topics.partitions. */
      sessionize: z
        .strictObject({
          /** How far a partition's watermark trails its newest event time. */
          allowedLatenessMs: z.coerce.number().int().min(0).default(30_000),
          /** Idle timeout of a view, and the gap that splits a session into views. */
          viewGapMs: z.coerce
            .number()
            .int()
            .min(1)
            .default(30 * 60_000),
          maxOpenSessions: z.coerce.number().int().min(1).default(1_000_000),
          /** Events one session may hold back waiting for a missing seq. */
          maxPendingPerSession: z.coerce.number().int().min(1).default(64),
          maxPendingEvents: z.coerce.number().int().min(1).default(200_000),
          /** Closed sessions remembered to recognise late events and duplicates. */
          maxTombstones: z.coerce.number().int().min(1).default(1_000_000),
          /** How often each partition's state is checkpointed (and its offset committed). */
          checkpointIntervalMs: z.coerce.number().int().min(100).default(5_000),
          /**
           * After this long without any event (wall clock), the watermark moves on with the
           * clock, so the last sessions of a quiet stream close. 0 turns it off (pure event time).
           */
          idleAdvanceMs: z.coerce.number().int().min(0).default(10_000),
        })
        .prefault({}),
      /** The outcomes processor (processors/outcomes/README.md): sessions joined to experiment cells. */
      outcomes: z
        .strictObject({
          /**
           * A viewer-unit session counts as exposed when it starts no earlier than this before
           * the unit's first allocation: the allocation is stamped by the control plane's clock,
           * the session by the player's skew-corrected one.
           */
          exposureGraceSec: z.coerce.number().int().min(0).max(3_600).default(60),
          /** CUPED pre-period: the viewer's sessions in this many days before its first allocation. */
          prePeriodDays: z.coerce.number().int().min(1).max(90).default(14),
          /** Viewers recomputed per ClickHouse statement (bounds the statement's IN list). */
          recomputeBatchViewers: z.coerce.number().int().min(1).max(100_000).default(2_000),
        })
        .prefault({}),
    })
    .prefault({}),
  /** The feedback half of the loop: steering (QoE windows -> config.steering) and ABR tuning. */
  feedback: z
    .strictObject({
      /**
       * How long a feedback writer waits at start to read its config topic to the end (it
       * resumes versions from there) before it fails to start.
       */
      catchUpTimeoutMs: z.coerce.number().int().positive().default(30_000),
      steering: z
        .strictObject({
          /** Off: no steering documents are written (the demo's --no-feedback run). */
          enabled: z
            .union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')])
            .default(true),
          /** How often closed QoE windows are read and health recomputed. */
          intervalMs: z.coerce.number().int().min(50).default(10_000),
          /** Which qoe_windows size the health model reads; one of processors.windowSizesSec. */
          windowSec: z.coerce.number().int().min(1).max(86_400).default(10),
          /** A window is read this long after it ends, so late sessions have landed in it. */
          settleMs: z.coerce.number().int().min(0).default(5_000),
          /** Most closed windows read in one tick (catch-up after a pause or restart). */
          maxCatchUpWindows: z.coerce.number().int().min(1).default(30),
          /** Content Steering TTL written into each document. */
          ttlSec: z.coerce.number().int().positive().default(10),
          /** A window with fewer sessions on an OCA (or its baseline) carries no evidence. */
          minSessionsPerWindow: z.coerce.number().int().min(1).default(20),
          /** Consecutive bad windows (with evidence) before an OCA is degraded. */
          enterWindows: z.coerce.number().int().min(1).default(3),
          /** Consecutive good windows before a degraded or drained OCA is healthy again. */
          exitWindows: z.coerce.number().int().min(1).default(3),
          /** Consecutive severe windows before an OCA is drained. */
          drainWindows: z.coerce.number().int().min(1).default(3),
          /** Windows without evidence after which a drained or degraded OCA is re-admitted one step. */
          probeAfterWindows: z.coerce.number().int().min(1).default(30),
          /** One-sided significance level of each per-window comparison with the fleet. */
          alpha: z.coerce.number().gt(0).lt(0.5).default(0.01),
          /**
           * Segment-level evidence (processors/steering/README.md): every segment download and
           * segment load error, judged at download time and attributed to the OCA that served it.
           */
          segments: z
            .strictObject({
              /** Off: the steering role consumes no events and judges from QoE windows alone. */
              enabled: z
                .union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')])
                .default(true),
              /** Segment requests the OCA and its baseline each need for the failure rate. */
              minSegmentsPerWindow: z.coerce.number().int().min(1).default(40),
              /**
               * Downloading sessions the OCA and its baseline each need in a window, per segment
               * signal: a player's segments share its access link, so sessions are the units.
               */
              minSessionsPerWindow: z.coerce.number().int().min(2).default(20),
              /** Rows buffered before an insert that does not wait for the tick. */
              maxBufferedRows: z.coerce.number().int().min(1).default(10_000),
              /** How far back an error looks for the OCA its session was loading from. */
              attributionLookbackMs: z.coerce.number().int().min(1_000).default(600_000),
            })
            .prefault({}),
        })
        .prefault({}),
      abr: z
        .strictObject({
          /** How often experiment decisions are read and promoted configs watched. */
          intervalMs: z.coerce.number().int().min(50).default(30_000),
          /** Before-promotion span the guardrail watch compares the cohort with. */
          baselineMs: z.coerce.number().int().positive().default(3_600_000),
          /** How long after a promotion its guardrails are watched. */
          watchMs: z.coerce
            .number()
            .int()
            .positive()
            .default(6 * 3_600_000),
          /** Sessions needed on each side (before, after) before a guardrail is judged. */
          minSessions: z.coerce.number().int().min(2).default(200),
        })
        .prefault({}),
    })
    .prefault({}),
  dashboard: z
    .strictObject({
      host: host.default('127.0.0.1'),
      port: port.default(7072),
      /** How often the dashboard page re-runs its panels. */
      refreshIntervalMs: z.coerce.number().int().min(1_000).default(5_000),
      /** How often MetricsSnapshotter copies the Prometheus series into pipeline_metrics. */
      snapshotIntervalMs: z.coerce.number().int().min(1_000).default(5_000),
    })
    .prefault({}),
  oca: z
    .strictObject({
      host: host.default('127.0.0.1'),
      basePort: port.default(7100),
      /** Cache size of each edge OCA in the default fleet (LRU by bytes). */
      edgeCapacityMb: z.coerce.number().positive().default(512),
    })
    .prefault({}),
  signing: z
    .strictObject({
      /**
       * `keyId:secret` pairs for media URL signing (HMAC-SHA256). The first key signs, every
       * key verifies: rotate by prepending a new key and dropping the old one after urlTtlSec.
       */
      keys: keyring('dev1:playloop-local-dev-url-signing-key'),
      /** How long a signed media URL stays valid. */
      urlTtlSec: z.coerce
        .number()
        .int()
        .positive()
        .default(6 * 3600),
    })
    .prefault({}),
});

export type PlayloopConfig = Readonly<z.output<typeof configSchema>>;

/** Environment variable -> config path. The design fixes the first five names. */
export const envBindings: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['KAFKA_BROKERS', ['kafka', 'brokers']],
  ['SCHEMA_REGISTRY_URL', ['registry', 'url']],
  ['CLICKHOUSE_URL', ['clickhouse', 'url']],
  ['PLAYLOOP_INGEST_KEYS', ['ingest', 'keys']],
  ['PLAYLOOP_DATA_DIR', ['dataDir']],
  ['CLICKHOUSE_DATABASE', ['clickhouse', 'database']],
  ['CLICKHOUSE_USER', ['clickhouse', 'username']],
  ['CLICKHOUSE_PASSWORD', ['clickhouse', 'password']],
  ['PLAYLOOP_INGEST_PORT', ['ingest', 'port']],
  ['PLAYLOOP_CONTROL_PLANE_PORT', ['controlPlane', 'port']],
  ['PLAYLOOP_DASHBOARD_PORT', ['dashboard', 'port']],
  ['PLAYLOOP_OCA_BASE_PORT', ['oca', 'basePort']],
  // One switch for every server's listen address (0.0.0.0 inside a container).
  ['PLAYLOOP_BIND_HOST', ['ingest', 'host']],
  ['PLAYLOOP_BIND_HOST', ['controlPlane', 'host']],
  ['PLAYLOOP_BIND_HOST', ['dashboard', 'host']],
  ['PLAYLOOP_BIND_HOST', ['oca', 'host']],
  ['PLAYLOOP_SIGNING_KEYS', ['signing', 'keys']],
  ['PLAYLOOP_CONTROL_PLANE_TOKEN_KEYS', ['controlPlane', 'tokenKeys']],
];

type Tree = { [key: string]: unknown };

function setPath(target: Tree, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      const created: Tree = {};
      node[key] = created;
      node = created;
    } else {
      node = next as Tree;
    }
  }
  node[path[path.length - 1] as string] = value;
}

function readConfigFile(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new PlayloopError('CONFIG_INVALID', `config file ${file} cannot be read`, { cause });
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (cause) {
    throw new PlayloopError('CONFIG_INVALID', `config file ${file} is not valid YAML/JSON`, { cause });
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new PlayloopError('CONFIG_INVALID', `config file ${file} must hold a mapping at its top level`);
  }
  return parsed as Tree;
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** A YAML or JSON file; PLAYLOOP_CONFIG names one when this is not given. */
  file?: string;
  /** Values set by code (CLI flags, tests); they win over env and file. */
  overrides?: Tree;
}

/** Loads, validates and freezes the config. Throws CONFIG_INVALID naming every bad key. */
export function loadConfig(options: LoadConfigOptions = {}): PlayloopConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? env['PLAYLOOP_CONFIG'];
  const raw: Tree = file ? readConfigFile(resolve(file)) : {};
  const origin = new Map<string, string>();
  for (const [name, path] of envBindings) {
    const value = env[name];
    if (value !== undefined && value !== '') {
      setPath(raw, path, value);
      origin.set(path.join('.'), name);
    }
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [inner, innerValue] of Object.entries(value)) setPath(raw, [key, inner], innerValue);
    } else {
      setPath(raw, [key], value);
    }
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const key = issue.path.map(String).join('.') || '(root)';
      const from = originOf(issue.path.map(String), origin) ?? (file ? `file ${file}` : 'default');
      return `${key} (${from}): ${issue.message}`;
    });
    throw new PlayloopError('CONFIG_INVALID', `invalid configuration:\n  ${lines.join('\n  ')}`, {
      details: { issues: lines },
    });
  }
  return deepFreeze(result.data);
}

/** The environment variable behind a key or any key above it (`kafka.brokers.0` -> KAFKA_BROKERS). */
function originOf(path: readonly string[], origin: ReadonlyMap<string, string>): string | undefined {
  for (let n = path.length; n > 0; n--) {
    const name = origin.get(path.slice(0, n).join('.'));
    if (name !== undefined) return name;
  }
  return undefined;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
