/**
 * 10,000+ malformed or hostile requests against ingest (through app.inject(), with the real
 * Avro codecs, registry and Kafka behind it): mutated valid payloads, wrong types, huge
 * numbers, deep nesting, invalid UTF-8, `__proto__` / `constructor` keys, oversized bodies,
 * far-future timestamps, garbage CMCD. It must never see a 5xx (503 is allowed only as the
 * designed answer, and with Kafka up none is expected), never crash, and every event must
 * be accounted for: the accepted ones in the events topic, the rejected ones in the DLQ.
 *
 * The generator is seeded (mulberry32), so a failure replays exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../core/log.ts';
import { createKafka } from '../infra/kafka.ts';
import { AvroCodec, createRegistry } from '../infra/registry.ts';
import type { WireAccepted } from '../producers/client/wire.ts';
import { SlabAvroEncoder } from '../producers/ingest/avro-encoder.ts';
import { KafkaSink } from '../producers/ingest/kafka-sink.ts';
import { buildIngestServer, type IngestServer } from '../producers/ingest/server.ts';
import { sampleEvent } from '../producers/ingest/testing.ts';
import { type DeadLetter, schema as deadLetterSchema } from '../schemas/generated/dead-letter.ts';
import { type PlaybackEvent, schema as playbackEventSchema } from '../schemas/generated/playback-event.ts';
import { countRecords } from './ingest-support.ts';
import { createTopics, deleteTopics, testConfig } from './support/stack.ts';

const SEED = 0x5eed_2025;
const REQUESTS = 10_000;
const CONCURRENCY = 32;

const config = testConfig('ingest_fuzz');
const key = config.ingest.keys[0] as string;
const topics = { events: config.topics.events, eventsDlq: config.topics.eventsDlq };
let server: IngestServer;
let sink: KafkaSink;

beforeAll(async () => {
  await createTopics(config, [topics.events, topics.eventsDlq], 2);
  const registry = createRegistry(config.registry.url);
  sink = new KafkaSink(createKafka(config.kafka), {
    ackTimeoutMs: 5_000,
    retries: 5,
    probeIntervalMs: 500,
    probeTopic: topics.events,
    log: silentLogger,
  });
  await sink.connect();
  server = buildIngestServer({
    // A small body limit so oversized bodies are cheap to make.
    settings: { ...config.ingest, maxBodyBytes: 256 * 1_024, maxInFlightBytes: 64 * 1_048_576 },
    topics,
    eventEncoder: new SlabAvroEncoder<PlaybackEvent>(
      playbackEventSchema,
      (await AvroCodec.register<PlaybackEvent>(registry, topics.events, playbackEventSchema)).schemaId,
    ),
    deadLetterEncoder: await AvroCodec.register<DeadLetter>(registry, topics.eventsDlq, deadLetterSchema),
    sink,
    log: silentLogger,
  });
});

afterAll(async () => {
  await server?.app.close();
  await sink?.close();
  await deleteTopics(config, [topics.events, topics.eventsDlq]);
});

/** mulberry32: a tiny seeded PRNG (Tommy Ettinger), plenty for choosing mutations. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const random = prng(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const int = (n: number): number => Math.floor(random() * n);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const KINDS = [
  'play_intent',
  'manifest_loaded',
  'first_frame',
  'rendition_switch',
  'stall_start',
  'stall_end',
  'segment_downloaded',
  'heartbeat',
  'error',
  'seek',
  'pause',
  'resume',
  'session_end',
] as const;

/** Raw JSON number texts that JSON.parse turns into trouble. */
const HOSTILE_NUMBERS = [
  '1e400',
  '-1e400',
  '9007199254740993',
  '2147483648',
  '-2147483649',
  '1.5',
  '-0',
  '1e-400',
  '123456789012345678901234567890',
];
const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  '',
  ' ',
  'server',
  'kind\u0000',
  'x'.repeat(300),
];

function hostileValue(): Json | { raw: string } {
  switch (int(12)) {
    case 0:
      return { raw: pick(HOSTILE_NUMBERS) };
    case 1:
      return pick([null, true, false, 0, -1, 2 ** 31, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER + 2, 1e308]);
    case 2:
      return 'x'.repeat(pick([0, 65, 129, 3_000, 70_000]));
    case 3:
      return { raw: '"\\ud800 lone"' };
    case 4:
      return pick(['', 'NaN', 'Infinity', '2025-01-01T00:00:00Z', '\u202e\u0000\uffff', '😀'.repeat(40)]);
    case 5:
      return [];
    case 6:
      return [1, 'two', null];
    case 7:
      return {};
    case 8:
      return { __proto__: { polluted: true } } as unknown as Json;
    case 9:
      return { raw: `${'['.repeat(2_000)}${']'.repeat(2_000)}` };
    case 10:
      return pick(KINDS);
    default:
      return pick([Date.now() + 10 * 365 * 86_400_000, 0, -5, Date.now() - 400 * 86_400_000]);
  }
}

/** JSON text with `{ raw }` placeholders spliced in verbatim (for texts JSON.stringify can't make). */
function text(value: Json | { raw: string }): string {
  if (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    'raw' in value &&
    typeof value.raw === 'string' &&
    Object.keys(value).length === 1
  ) {
    return value.raw;
  }
  if (Array.isArray(value)) return `[${value.map((v) => text(v)).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    // Own keys only, __proto__ included as a literal key (as a player could send it).
    const entries = Object.getOwnPropertyNames(value).map(
      (k) => `${JSON.stringify(k)}:${text((value as Record<string, Json>)[k] as Json)}`,
    );
    if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) {
      entries.push(`"__proto__":${text(Object.getPrototypeOf(value) as Json)}`);
    }
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A valid event with 0-3 mutations at random paths. */
function mutatedEvent(): string {
  const event = JSON.parse(JSON.stringify(sampleEvent(pick(KINDS)))) as Record<string, Json>;
  const mutations = int(4);
  const extra: string[] = [];
  for (let m = 0; m < mutations; m++) {
    const keys = Object.keys(event);
    const target = pick(keys);
    const nested = event[target];
    const op = int(5);
    if (op === 0) delete event[target];
    else if (op === 1 && typeof nested === 'object' && nested !== null && !Array.isArray(nested)) {
      const inner = Object.keys(nested);
      if (inner.length > 0)
        (nested as Record<string, Json>)[pick(inner)] = { raw: '__HOSTILE__' } as unknown as Json;
    } else if (op === 2) extra.push(`${JSON.stringify(pick(HOSTILE_KEYS))}:${text(hostileValue())}`);
    else event[target] = { raw: '__HOSTILE__' } as unknown as Json;
  }
  // Each `{ raw: '__HOSTILE__' }` placeholder prints as the bare marker: swap in a value.
  let out = text(event as Json);
  while (out.includes('__HOSTILE__')) out = out.replace('__HOSTILE__', text(hostileValue()));
  if (extra.length > 0) out = `${out.slice(0, -1)}${out.length > 2 ? ',' : ''}${extra.join(',')}}`;
  return out;
}

interface FuzzRequest {
  readonly kind: string;
  readonly method: 'POST' | 'GET';
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body?: Buffer | string;
}

const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

function fuzzRequest(): FuzzRequest {
  const roll = int(100);
  const batch = (parts: string[], extra = ''): string => `{${extra}"events":[${parts.join(',')}]}`;
  const events = (n: number): string[] =>
    Array.from({ length: n }, () =>
      random() < 0.3 ? text(sampleEvent(pick(KINDS)) as unknown as Json) : mutatedEvent(),
    );
  if (roll < 55)
    return {
      kind: 'mutated',
      method: 'POST',
      url: '/v1/events',
      headers: auth,
      body: batch(events(1 + int(12))),
    };
  if (roll < 60) {
    const sentAt = pick([
      '1e400',
      '-1',
      '"now"',
      String(Date.now() + 5 * 365 * 86_400_000),
      String(Date.now()),
      'null',
    ]);
    return {
      kind: 'sentAt',
      method: 'POST',
      url: '/v1/events',
      headers: auth,
      body: batch(events(1 + int(4)), `"sentAt":${sentAt},`),
    };
  }
  if (roll < 65) {
    const shape = pick([
      '[]',
      '{}',
      '"events"',
      '42',
      'null',
      '{"events":{}}',
      '{"events":"[]"}',
      '{"events":[],"__proto__":{"polluted":1}}',
      '{"constructor":{"prototype":{"polluted":1}},"events":[]}',
      '{"events":[],"events":[1]}',
    ]);
    return { kind: 'shape', method: 'POST', url: '/v1/events', headers: auth, body: shape };
  }
  if (roll < 70) {
    const depth = pick([100, 5_000, 60_000]);
    const where = int(3);
    const nest = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const objNest = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const body =
      where === 0
        ? batch([nest])
        : where === 1
          ? batch([`{"kind":"pause","device":${objNest}}`])
          : `{"events":[],"x":${nest}}`;
    return { kind: 'deep', method: 'POST', url: '/v1/events', headers: auth, body };
  }
  if (roll < 75) {
    const valid = Buffer.from(batch(events(2)));
    const bad = Buffer.from(valid);
    bad[int(bad.length)] = pick([0xff, 0xc0, 0xed, 0x80, 0xf8]);
    return { kind: 'utf8', method: 'POST', url: '/v1/events', headers: auth, body: bad };
  }
  if (roll < 80) {
    const valid = batch(events(3));
    const cut = valid.slice(0, int(valid.length));
    const garbage = Buffer.from(Array.from({ length: int(200) }, () => int(256)));
    return {
      kind: 'truncated',
      method: 'POST',
      url: '/v1/events',
      headers: auth,
      body: random() < 0.5 ? cut : garbage,
    };
  }
  if (roll < 81) {
    return {
      kind: 'oversized',
      method: 'POST',
      url: '/v1/events',
      headers: auth,
      body: batch([`{"kind":"pause","viewerId":"${'v'.repeat(300_000)}"}`]),
    };
  }
  if (roll < 84) {
    return {
      kind: 'many',
      method: 'POST',
      url: '/v1/events',
      headers: auth,
      body: batch(Array.from({ length: config.ingest.maxEventsPerBatch + 1 + int(50) }, () => '{}')),
    };
  }
  if (roll < 88) {
    const headers = pick<Record<string, string>>([
      { 'content-type': 'application/json' },
      { authorization: 'Bearer nope-nope-nope', 'content-type': 'application/json' },
      { authorization: `Basic ${key}`, 'content-type': 'application/json' },
      { authorization: `Bearer ${key}`, 'content-type': 'text/plain' },
      { authorization: `Bearer ${key}`, 'content-type': 'application/x-www-form-urlencoded' },
      { authorization: `Bearer ${key}`, 'content-type': 'multipart/form-data; boundary=x' },
    ]);
    return { kind: 'headers', method: 'POST', url: '/v1/events', headers, body: batch(events(2)) };
  }
  // CMCD beacons: garbage, half-right and right ones.
  const cmcd = pick([
    'br=3200,bl=8000,cid="t",sid="s"',
    `br=${pick(HOSTILE_NUMBERS)},bl=1,cid="t",sid="s"`,
    'sid="unterminated',
    'br="3200",bl=1,cid="t",sid="s"',
    '__proto__=1,constructor="x",cid="t",sid="s",bl=1,br=1',
    `sid="${'s'.repeat(200)}",cid="t",bl=1,br=1`,
    ',,,=,"',
    'bl=1,br=1,cid="t",sid="s",ts=99999999999999999999',
    `bl=1,br=1,cid="t",sid="s",sn=${pick(['-5', '1', '3000000000'])}`,
    'ot=zz,bl=1,br=1,cid="t",sid="s"',
  ]);
  const asHeader = random() < 0.3;
  const extra =
    random() < 0.3
      ? `&oca=${pick(['oca-a', ''])}&bytes=${pick(['10', '-1', 'x'])}&ms=${pick(['5', '99999999999'])}`
      : '';
  return {
    kind: 'cmcd',
    method: pick(['GET', 'POST'] as const),
    url: asHeader ? `/v1/cmcd?${extra.slice(1)}` : `/v1/cmcd?CMCD=${encodeURIComponent(cmcd)}${extra}`,
    headers: asHeader
      ? { authorization: `Bearer ${key}`, 'cmcd-session': cmcd }
      : { authorization: `Bearer ${key}` },
  };
}

/** How many events a request carries, judged independently of the server. */
function eventsIn(req: FuzzRequest): number | undefined {
  if (req.url.startsWith('/v1/cmcd')) return 1;
  try {
    const parsed: unknown = JSON.parse(
      Buffer.isBuffer(req.body) ? req.body.toString('utf8') : (req.body ?? ''),
    );
    if (typeof parsed === 'object' && parsed !== null && 'events' in parsed && Array.isArray(parsed.events))
      return parsed.events.length;
  } catch {
    // Not JSON: no events.
  }
  return undefined;
}

describe('ingest under hostile input', () => {
  it(`answers ${REQUESTS} hostile requests without a 5xx and accounts for every event`, async () => {
    const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();
    const statuses = new Map<number, number>();
    const byKind = new Map<string, number>();
    let accepted = 0;
    let rejected = 0;
    const problems: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < REQUESTS) {
        next++;
        const req = fuzzRequest();
        byKind.set(req.kind, (byKind.get(req.kind) ?? 0) + 1);
        const res = await server.app.inject({
          method: req.method,
          url: req.url,
          headers: req.headers,
          ...(req.body === undefined ? {} : { payload: req.body }),
        });
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        if (res.statusCode >= 500) {
          problems.push(`${req.kind}: ${res.statusCode} ${res.body.slice(0, 200)}`);
          continue;
        }
        if (res.statusCode === 202) {
          const body = res.json<WireAccepted>();
          const sent = eventsIn(req);
          if (sent === undefined || body.accepted + body.rejected.length !== sent) {
            problems.push(
              `${req.kind}: 202 with ${body.accepted}+${body.rejected.length} for ${sent} events`,
            );
          }
          const indices = new Set(body.rejected.map((r) => r.index));
          if (
            indices.size !== body.rejected.length ||
            body.rejected.some((r) => r.index < 0 || r.index >= (sent ?? 0))
          ) {
            problems.push(
              `${req.kind}: bad rejection indices ${JSON.stringify(body.rejected.map((r) => r.index))}`,
            );
          }
          if (
            body.rejected.some(
              (r) => !r.path.startsWith('$') || r.reason.length === 0 || r.reason.length > 2_000,
            )
          ) {
            problems.push(`${req.kind}: bad rejection ${JSON.stringify(body.rejected[0]).slice(0, 300)}`);
          }
          accepted += body.accepted;
          rejected += body.rejected.length;
        } else {
          const error = res.json<{ error?: { code?: unknown; message?: unknown } }>().error;
          if (typeof error?.code !== 'string' || typeof error.message !== 'string') {
            problems.push(`${req.kind}: ${res.statusCode} without an error body`);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    expect(problems.slice(0, 20)).toEqual([]);
    expect(next).toBeGreaterThanOrEqual(REQUESTS);
    expect([...statuses.keys()].filter((s) => s >= 500)).toEqual([]);
    // Every kind of hostility was tried, and the server said something sensible to each.
    expect([...byKind.keys()].sort()).toEqual([
      'cmcd',
      'deep',
      'headers',
      'many',
      'mutated',
      'oversized',
      'sentAt',
      'shape',
      'truncated',
      'utf8',
    ]);
    expect(statuses.get(202)).toBeGreaterThan(5_000);
    for (const status of [400, 401, 413, 415])
      expect(statuses.get(status) ?? 0, `status ${status}`).toBeGreaterThan(0);
    expect(accepted).toBeGreaterThan(1_000);
    expect(rejected).toBeGreaterThan(1_000);

    // Every event accounted for: acknowledged (acks=-1) before each 202, so the counts are final.
    expect(await countRecords(config, topics.events)).toBe(accepted);
    expect(await countRecords(config, topics.eventsDlq)).toBe(rejected);
    expect(server.inFlight.bytes).toBe(0);
    // No crash, no pollution.
    expect((await server.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
