/**
 * Memory with a million open sessions, in a child started with --expose-gc so its RSS is its
 * own: one Sessionizer with the role's settings (config defaults: 4 partitions, a cap of
 * 1,000,000 open sessions split evenly over them), fed the first events of sessions from the
 * workload (play_intent, manifest, a segment, first_frame, a switch, ...), none ended, spread
 * over ten minutes of event time so none times out. Sessions go round-robin over the
 * partitions, so each partition holds exactly its share of the cap and nothing is evicted.
 *
 * Then what the sessionize processor does with that state every checkpoint interval
 * (processors/sessionize/processor.ts checkpoint()): snapshot every partition, JSON it, and
 * hand all rows to one JSONEachRow insert, whose body the client builds as one string.
 */

import { sessionizeOptionsFrom } from '../../processors/sessionize/options.ts';
import { Sessionizer, type SessionizerStats } from '../../processors/sessionize/sessionizer.ts';
import { CHUNKS_PER_INSERT, encodeChunks } from '../../processors/sessionize/state-codec.ts';
import type { PlaybackEvent } from '../../schemas/generated/playback-event.ts';
import { configOf, cpuMs, type Overrides } from './common.ts';
import { restamp, sessionTemplates } from './workload.ts';

/** Templates the sessions are cut from (their dimensions repeat; ids do not). */
const PREFIX_TEMPLATES = 2_000;

export interface MemorySpec {
  readonly overrides: Overrides;
  readonly sessions: number;
  readonly eventsPerSession: number;
  readonly seed: number;
}

export interface MemorySnapshot {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
  readonly externalBytes: number;
  readonly arrayBuffersBytes: number;
}

export interface MemoryResult {
  readonly sessions: number;
  readonly events: number;
  readonly partitions: number;
  readonly before: MemorySnapshot;
  readonly after: MemorySnapshot;
  readonly loadCpuMs: number;
  readonly stats: SessionizerStats;
  readonly checkpoint: {
    /** JavaScript CPU for every partition's snapshot, JSON and insert body (ClickHouse's own parse not included). */
    readonly cpuMs: number;
    readonly stateChars: number;
    /** Highest RSS seen while a partition's strings were alive. */
    readonly rssPeakBytes: number;
    /** The largest one-partition JSONEachRow body. */
    readonly maxInsertBodyChars: number;
    /** Why a partition's body could not be built (V8's longest string is 2^29 - 24 characters). */
    readonly insertBodyError: string | null;
  };
}

function gcNow(): void {
  const gc = globalThis.gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  gc();
  gc();
}

function snapshot(): MemorySnapshot {
  const m = process.memoryUsage();
  return {
    rssBytes: m.rss,
    heapUsedBytes: m.heapUsed,
    heapTotalBytes: m.heapTotal,
    externalBytes: m.external,
    arrayBuffersBytes: m.arrayBuffers,
  };
}

/** Session id and viewer id as long as real ones (UUIDs), unique per session. */
function uuidOf(n: number, salt: string): string {
  const hex = n.toString(16).padStart(12, '0');
  return `${salt}-0000-4000-8000-${hex}`;
}

interface Prefix {
  readonly firstTimeMs: number;
  readonly events: readonly PlaybackEvent[];
}

/** Each started template's first events, none an end (nor a fatal error, which ends play). */
function sessionPrefixes(seed: number, eventsPerSession: number): Prefix[] {
  return sessionTemplates(PREFIX_TEMPLATES, seed)
    .filter((t) => t.started)
    .map((t) => {
      const events: PlaybackEvent[] = [];
      for (const e of t.events) {
        if (events.length === eventsPerSession) break;
        if (e.kind === 'session_end' || (e.kind === 'error' && e.error?.fatal === true)) break;
        events.push(e);
      }
      return { firstTimeMs: t.firstTimeMs, events };
    });
}

export function memoryChild(spec: MemorySpec): MemoryResult {
  const config = configOf(spec.overrides);
  const options = sessionizeOptionsFrom(config);
  const partitions = options.partitionCount;
  const prefixes = sessionPrefixes(spec.seed, spec.eventsPerSession);
  const sessionizer = new Sessionizer(options);
  gcNow();
  const before = snapshot();
  const startMs = Date.now() - 3_600_000;
  const spreadMs = 600_000;
  const offsets = new Array<number>(partitions).fill(0);
  let events = 0;
  const c0 = cpuMs();
  for (let k = 0; k < spec.sessions; k++) {
    const prefix = prefixes[k % prefixes.length]!;
    // One string per session, shared by its events, as a decoded batch would not share them:
    // the view keeps the first event's, the others are garbage.
    const sessionId = uuidOf(k, '5e55');
    // Most viewers watch one session in the span, some two.
    const viewerId = uuidOf(k % Math.ceil(spec.sessions * 0.8), 'face');
    const shift = startMs + Math.floor((k * spreadMs) / spec.sessions) - prefix.firstTimeMs;
    const partition = k % partitions;
    for (const e of prefix.events) {
      const event = { ...restamp(e, sessionId, shift), viewerId };
      sessionizer.add(event, { partition, offset: offsets[partition]!++ });
      events++;
    }
  }
  const loadCpuMs = cpuMs() - c0;
  const closedEarly = sessionizer.drain().length;
  gcNow();
  const after = snapshot();
  const stats = sessionizer.stats();
  if (stats.openSessions !== spec.sessions || closedEarly > 0) {
    throw new Error(
      `expected ${spec.sessions} open sessions, have ${stats.openSessions} (${closedEarly} closed)`,
    );
  }

  // One full checkpoint, as the processor writes it (processors/sessionize/processor.ts, the
  // streamed path a change set this large takes): per partition the changes (every session),
  // encoded chunk by chunk, each chunk's JSONEachRow line as @clickhouse/client makes it and
  // the statement chdb/connection hands to the native library. One chunk is alive at a time.
  const c1 = cpuMs();
  let stateChars = 0;
  let maxInsertBodyChars = 0;
  let insertBodyError: string | null = null;
  let rssPeakBytes = process.memoryUsage.rss();
  let chunks = 0;
  const insert = (p: number, rows: ReadonlyArray<{ bytes: Buffer; entries: number }>): void => {
    if (rows.length === 0) return;
    // The JSONEachRow body @clickhouse/client streams (one line per row) and the statement
    // chdb/connection hands to the native library.
    const lines = rows.map(
      (c) =>
        `${JSON.stringify({ group_id: 'bench', topic: 'bench', partition: p, epoch: 1, writer: 'bench', chunk: chunks++, entries: c.entries, data: c.bytes.toString('base64') })}\n`,
    );
    const native = Buffer.from(`INSERT INTO t FORMAT JSONEachRow\n${lines.join('')}`, 'utf8');
    for (const l of lines) {
      stateChars += l.length;
      maxInsertBodyChars = Math.max(maxInsertBodyChars, l.length);
    }
    rssPeakBytes = Math.max(rssPeakBytes, process.memoryUsage.rss());
    if (native.length === 0) throw new Error('unreachable: keeps the copy observable');
  };
  for (let p = 0; p < partitions; p++) {
    try {
      const changes = sessionizer.checkpointChanges(p, true);
      let batch: Array<{ bytes: Buffer; entries: number }> = [];
      for (const chunk of encodeChunks(changes.entries())) {
        batch.push({ bytes: Buffer.from(chunk.bytes), entries: chunk.entries });
        if (batch.length === CHUNKS_PER_INSERT) {
          insert(p, batch);
          batch = [];
        }
      }
      insert(p, batch);
    } catch (err) {
      insertBodyError = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      break;
    }
  }
  const checkpointCpuMs = cpuMs() - c1;
  return {
    sessions: spec.sessions,
    events,
    partitions,
    before,
    after,
    loadCpuMs,
    stats,
    checkpoint: { cpuMs: checkpointCpuMs, stateChars, rssPeakBytes, maxInsertBodyChars, insertBodyError },
  };
}
