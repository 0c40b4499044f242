/**
 * Test doubles for the ingest pipeline, shared by unit tests: an Avro codec in the Confluent
 * wire format without a registry (schema id fixed), an in-memory sink, sample events.
 */
import avro from 'avsc';
import { loadConfig } from '../../core/config.ts';
import { PlayloopError } from '../../core/errors.ts';
import { silentLogger } from '../../core/log.ts';
import { type DeadLetter, schema as deadLetterSchema } from '../../schemas/generated/dead-letter.ts';
import { type PlaybackEvent, schema as playbackEventSchema } from '../../schemas/generated/playback-event.ts';
import type { WireEvent } from '../client/wire.ts';
import type { Encoder, OutRecord } from './encode.ts';
import type { RecordSink } from './kafka-sink.ts';
import {
  buildIngestServer,
  type IngestDeps,
  type IngestServer,
  type IngestServerSettings,
} from './server.ts';

export class LocalCodec<T> implements Encoder<T> {
  private readonly type: avro.Type;

  constructor(
    schema: object,
    readonly schemaId: number,
  ) {
    this.type = avro.Type.forSchema(schema as avro.Schema);
  }

  encode(value: T): Buffer {
    let body: Buffer;
    try {
      body = this.type.toBuffer(value);
    } catch (cause) {
      throw new PlayloopError('INVALID_EVENT', `does not fit: ${String(cause)}`, {
        cause,
        details: { path: null },
      });
    }
    const header = Buffer.alloc(5);
    header.writeUInt32BE(this.schemaId, 1);
    return Buffer.concat([header, body]);
  }

  decode(buffer: Buffer): T {
    if (buffer.readUInt8(0) !== 0 || buffer.readUInt32BE(1) !== this.schemaId)
      throw new Error('not this codec');
    return this.type.fromBuffer(buffer.subarray(5)) as T;
  }
}

export const eventCodec = (): LocalCodec<PlaybackEvent> =>
  new LocalCodec<PlaybackEvent>(playbackEventSchema, 1);
export const deadLetterCodec = (): LocalCodec<DeadLetter> => new LocalCodec<DeadLetter>(deadLetterSchema, 2);

/** Keeps what it is sent; `available` and `failWith` simulate an outage. */
export class MemorySink implements RecordSink {
  readonly records: OutRecord[] = [];
  available = true;
  failWith: Error | undefined;
  sends = 0;
  /** When set, each send waits for it: tests hold a send open to see what queues behind it. */
  gate: Promise<void> | undefined;

  async send(records: readonly OutRecord[]): Promise<void> {
    this.sends++;
    if (this.gate !== undefined) await this.gate;
    if (this.failWith !== undefined) throw this.failWith;
    this.records.push(...records);
  }

  topic(name: string): OutRecord[] {
    return this.records.filter((r) => r.topic === name);
  }
}

export const TEST_KEY = 'test-ingest-key-0001';
export const TEST_TOPICS = { events: 'test.playback.events', eventsDlq: 'test.playback.events.dlq' } as const;

export function testSettings(overrides: Record<string, unknown> = {}): IngestServerSettings {
  return loadConfig({ env: {}, overrides: { ingest: { keys: [TEST_KEY], ...overrides } } }).ingest;
}

export interface TestServer extends IngestServer {
  readonly sink: MemorySink;
  readonly events: LocalCodec<PlaybackEvent>;
  readonly letters: LocalCodec<DeadLetter>;
}

export function testServer(
  options: { settings?: IngestServerSettings; now?: () => number } & Partial<
    Pick<IngestDeps, 'ipLookup'>
  > = {},
): TestServer {
  const sink = new MemorySink();
  const events = eventCodec();
  const letters = deadLetterCodec();
  const server = buildIngestServer({
    settings: options.settings ?? testSettings(),
    topics: TEST_TOPICS,
    eventEncoder: events,
    deadLetterEncoder: letters,
    sink,
    log: silentLogger,
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.ipLookup === undefined ? {} : { ipLookup: options.ipLookup }),
  });
  return { ...server, sink, events, letters };
}

let counter = 0;

/** A valid event of each kind; `overrides` replace top-level fields. */
export function sampleEvent(
  kind: WireEvent['kind'] = 'heartbeat',
  overrides: Partial<WireEvent> = {},
): WireEvent {
  const base: WireEvent = {
    sessionId: `s-${(counter++).toString(36)}`,
    seq: 0,
    viewerId: 'viewer-1',
    titleId: 'title-42',
    clientTs: Date.now() - 1_000,
    kind,
    ...PAYLOADS[kind],
  };
  return { ...base, ...overrides };
}

const PAYLOADS: Record<WireEvent['kind'], Partial<WireEvent>> = {
  play_intent: { playIntent: { autoplay: true, startPositionMs: 0, planId: 'plan-1', ocaId: 'oca-a' } },
  manifest_loaded: { manifestLoaded: { loadMs: 120, renditions: 5, ocaId: 'oca-a' } },
  first_frame: { firstFrame: { bitrateKbps: 1_800 } },
  rendition_switch: { renditionSwitch: { fromKbps: 1_800, toKbps: 3_200, level: 3, height: 720 } },
  stall_start: { stall: { bufferMs: 0 } },
  stall_end: { stall: { durationMs: 850, bufferMs: 2_000 } },
  segment_downloaded: {
    segment: {
      ocaId: 'oca-a',
      bytes: 812_345,
      downloadMs: 340,
      bitrateKbps: 3_200,
      durationMs: 2_000,
      level: 3,
    },
    cmcd: { br: 3_200, bl: 8_000, mtp: 25_000, ot: 'v', sf: 'h', st: 'v', d: 2_000 },
  },
  heartbeat: { heartbeat: { bufferMs: 9_000, bitrateKbps: 3_200, droppedFrames: 2 } },
  error: { error: { type: 'NETWORK_ERROR', details: 'fragLoadError', fatal: false, httpStatus: 503 } },
  seek: { seek: { fromMs: 10_000, toMs: 60_000 } },
  pause: {},
  resume: {},
  session_end: { sessionEnd: { reason: 'viewer_exit' } },
};

export function batchBody(events: readonly unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ events, ...extra });
}

export const authHeaders = (key = TEST_KEY): Record<string, string> => ({
  authorization: `Bearer ${key}`,
  'content-type': 'application/json',
});
