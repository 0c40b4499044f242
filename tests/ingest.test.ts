/**
 * Ingest on the real broker and registry, over a real socket: a valid batch lands in Kafka
 * and decodes back (with the registry client, independently of ingest's codec) to the same
 * events; in a mixed batch, events in Kafka plus dead letters equal the events sent; a CMCD
 * beacon lands as an event; the player client library delivers a whole session in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestClient } from '../producers/client/client.ts';
import { PlaybackSession } from '../producers/client/session.ts';
import type { WireAccepted, WireEvent } from '../producers/client/wire.ts';
import { ingestKeyId } from '../producers/ingest/auth.ts';
import { sampleEvent } from '../producers/ingest/testing.ts';
import type { DeadLetter } from '../schemas/generated/dead-letter.ts';
import type { PlaybackEvent } from '../schemas/generated/playback-event.ts';
import { consumeDecoded, countRecords, type StartedIngest, startTestIngest } from './ingest-support.ts';
import { deleteTopics, testConfig } from './support/stack.ts';

const config = testConfig('ingest');
const key = config.ingest.keys[0] as string;
let ingest: StartedIngest;

beforeAll(async () => {
  ingest = await startTestIngest(config);
});

afterAll(async () => {
  await ingest?.role.stop();
  await deleteTopics(config, [config.topics.events, config.topics.eventsDlq]);
});

async function post(body: string): Promise<{ status: number; json: WireAccepted }> {
  const res = await fetch(`${ingest.base}/v1/events`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148',
    },
    body,
  });
  return { status: res.status, json: (await res.json()) as WireAccepted };
}

/** What the player sent, with every field the contract fills in when it is left out. */
function asStored(e: WireEvent): Omit<PlaybackEvent, 'server'> {
  const kinds = [
    'playIntent',
    'manifestLoaded',
    'firstFrame',
    'renditionSwitch',
    'stall',
    'segment',
    'heartbeat',
    'error',
    'seek',
    'sessionEnd',
  ] as const;
  const payloads = Object.fromEntries(kinds.map((k) => [k, null])) as Record<(typeof kinds)[number], null>;
  const stored: Omit<PlaybackEvent, 'server'> = {
    ...payloads,
    sessionId: e.sessionId,
    seq: e.seq,
    viewerId: e.viewerId,
    titleId: e.titleId,
    clientTs: e.clientTs,
    kind: e.kind,
    playheadMs: e.playheadMs ?? null,
    device: {
      deviceClass: null,
      model: null,
      os: null,
      playerName: null,
      playerVersion: null,
      userAgent: null,
      ...e.device,
    },
    experiments: e.experiments ?? [],
    cmcd:
      e.cmcd === undefined || e.cmcd === null
        ? null
        : {
            br: null,
            bl: null,
            mtp: null,
            ot: null,
            st: null,
            sf: null,
            su: null,
            d: null,
            rtp: null,
            tb: null,
            bs: null,
            dl: null,
            ...e.cmcd,
          },
  };
  if (e.playIntent)
    stored.playIntent = { autoplay: false, startPositionMs: 0, planId: null, ocaId: null, ...e.playIntent };
  if (e.manifestLoaded) stored.manifestLoaded = { ocaId: null, ...e.manifestLoaded };
  if (e.firstFrame) stored.firstFrame = e.firstFrame;
  if (e.renditionSwitch) stored.renditionSwitch = { height: null, ...e.renditionSwitch };
  if (e.stall) stored.stall = { durationMs: null, bufferMs: null, ...e.stall };
  if (e.segment) stored.segment = { level: null, url: null, cacheHit: null, ...e.segment };
  if (e.heartbeat) stored.heartbeat = { droppedFrames: 0, ...e.heartbeat };
  if (e.error) stored.error = { httpStatus: null, message: null, ...e.error };
  if (e.seek) stored.seek = e.seek;
  if (e.sessionEnd) stored.sessionEnd = e.sessionEnd;
  return stored;
}

describe('ingest on the real broker and registry', () => {
  it('lands a valid batch in Kafka that decodes back to the same events, enriched and keyed by sessionId', async () => {
    const kinds: Array<WireEvent['kind']> = [
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
    ];
    const sent = kinds.map((kind, seq) =>
      sampleEvent(kind, {
        sessionId: 'valid-batch-session',
        seq,
        device: { playerName: 'hls.js', playerVersion: '1.7.4' },
        experiments: seq === 0 ? [{ key: 'abr-2025', cell: 'treatment' }] : [],
      }),
    );
    const sentAt = Date.now();
    const res = await post(JSON.stringify({ sentAt, events: sent }));
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ accepted: sent.length, rejected: [] });

    const got = await consumeDecoded<PlaybackEvent>(config, config.topics.events, sent.length);
    expect(got).toHaveLength(sent.length);
    // One key, one partition: the session's order is kept.
    expect(new Set(got.map((r) => r.partition)).size).toBe(1);
    expect(got.map((r) => r.key)).toEqual(sent.map(() => 'valid-batch-session'));
    const events = got.map((r) => r.value);
    expect(events.map(({ server: _server, ...rest }) => rest)).toEqual(sent.map(asStored));
    for (const e of events) {
      expect(e.server.deviceClass).toBe('mobile');
      expect(e.server.ingestKeyId).toBe(ingestKeyId(key));
      expect(e.server.isp).toBe('local');
      expect(Math.abs(e.server.receivedAt - sentAt)).toBeLessThan(5_000);
      // The batch's sentAt came from this machine's clock: the skew is about the network delay.
      expect(Math.abs(e.server.clockSkewMs)).toBeLessThan(5_000);
    }
  });

  it('puts every event of a mixed batch either in Kafka or in the dead-letter topic', async () => {
    const before = {
      events: await countRecords(config, config.topics.events),
      dlq: await countRecords(config, config.topics.eventsDlq),
    };
    const good = Array.from({ length: 7 }, (_, i) =>
      sampleEvent('heartbeat', { sessionId: 'mixed', seq: i }),
    );
    const bad: string[] = [
      '{"sessionId":"mixed-bad-1","seq":0,"viewerId":"v","titleId":"t","clientTs":1,"kind":"heartbeat","heartbeat":{"bufferMs":1,"bitrateKbps":1}}',
      '{"sessionId":"mixed-bad-2","seq":99999999999,"viewerId":"v","titleId":"t","clientTs":0,"kind":"pause"}',
      '{"constructor":{"prototype":{"polluted":true}},"kind":"pause"}',
      '[1,2,3]',
    ];
    const parts = [
      ...good.slice(0, 3).map((e) => JSON.stringify(e)),
      ...bad,
      ...good.slice(3).map((e) => JSON.stringify(e)),
    ];
    const res = await post(`{"events":[${parts.join(',')}]}`);
    expect(res.status).toBe(202);
    expect(res.json.accepted).toBe(7);
    expect(res.json.rejected.map((r) => [r.index, r.path, r.code])).toEqual([
      [3, '$.events[3].clientTs', 'timestamp_out_of_range'],
      [4, '$.events[4].seq', 'out_of_range'],
      [5, '$.events[5].constructor', 'forbidden_key'],
      [6, '$.events[6]', 'not_an_object'],
    ]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();

    // A 202 means acknowledged with acks=-1: the records are there now, no waiting.
    expect(await countRecords(config, config.topics.events)).toBe(before.events + 7);
    expect(await countRecords(config, config.topics.eventsDlq)).toBe(before.dlq + 4);
    const letters = await consumeDecoded<DeadLetter>(config, config.topics.eventsDlq, before.dlq + 4);
    const mine = letters
      .map((r) => r.value)
      .filter((l) => l.batchIndex !== null && l.failedAt > Date.now() - 60_000)
      // Two partitions: consumption order across them is not the order sent.
      .sort((a, b) => (a.batchIndex ?? 0) - (b.batchIndex ?? 0));
    expect(mine.map((l) => l.payload.toString('utf8'))).toEqual(bad);
    expect(mine.map((l) => l.sessionId)).toEqual(['mixed-bad-1', 'mixed-bad-2', null, null]);
    expect(mine.every((l) => l.code === 'PLAYLOOP_INVALID_EVENT' && l.source === 'ingest')).toBe(true);
  });

  it('lands a CMCD beacon as an event of the same contract', async () => {
    const cmcd = 'bl=8000,br=3200,cid="cmcd-title",mtp=25000,ot=v,sf=h,sid="cmcd-session",st=v';
    const res = await fetch(`${ingest.base}/v1/cmcd?CMCD=${encodeURIComponent(cmcd)}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 1, rejected: [] });
    const total = await countRecords(config, config.topics.events);
    const all = await consumeDecoded<PlaybackEvent>(config, config.topics.events, total);
    const beacon = all.find((r) => r.value.sessionId === 'cmcd-session');
    expect(beacon?.value).toMatchObject({
      titleId: 'cmcd-title',
      kind: 'heartbeat',
      heartbeat: { bufferMs: 8_000, bitrateKbps: 3_200 },
      cmcd: { br: 3_200, bl: 8_000, mtp: 25_000, ot: 'v', sf: 'h', st: 'v' },
    });
  });

  it('delivers a whole session through the client library, in order', async () => {
    const client = new IngestClient({ endpoint: ingest.base, key, maxBatchEvents: 40, flushIntervalMs: 50 });
    const session = new PlaybackSession(client, {
      sessionId: 'client-session',
      viewerId: 'viewer-7',
      titleId: 'title-7',
    });
    session.track('play_intent', { playIntent: { autoplay: true } });
    for (let i = 0; i < 248; i++)
      session.track('heartbeat', { heartbeat: { bufferMs: 4_000 + i, bitrateKbps: 2_000 } });
    session.track('session_end', { sessionEnd: { reason: 'completed' } });
    const result = await client.close();
    expect(result).toEqual({ accepted: 250, rejected: 0, givenUp: 0 });
    expect(client.stats.requests).toBeGreaterThanOrEqual(7);

    const total = await countRecords(config, config.topics.events);
    const all = await consumeDecoded<PlaybackEvent>(config, config.topics.events, total);
    const mine = all.filter((r) => r.value.sessionId === 'client-session').map((r) => r.value);
    expect(mine.map((e) => e.seq)).toEqual(Array.from({ length: 250 }, (_, i) => i));
    expect(mine[0]?.kind).toBe('play_intent');
    expect(mine.at(-1)?.kind).toBe('session_end');
  });

  it('serves Prometheus metrics over the socket', async () => {
    const text = await (await fetch(`${ingest.base}/metrics`)).text();
    expect(text).toMatch(/^playloop_ingest_events_accepted_total \d+$/m);
    expect(text).toMatch(/^playloop_ingest_events_rejected_total\{reason="forbidden_key"\} 1$/m);
    expect(text).toMatch(/^playloop_ingest_produce_latency_seconds_bucket\{le="0.1"\} \d+$/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect((await fetch(`${ingest.base}/readyz`)).status).toBe(200);
  });
});
