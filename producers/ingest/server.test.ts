import { afterEach, describe, expect, it } from 'vitest';
import { PlayloopError } from '../../core/errors.ts';
import type { WireAccepted, WireError } from '../client/wire.ts';
import { ingestKeyId } from './auth.ts';
import {
  authHeaders,
  batchBody,
  sampleEvent,
  TEST_KEY,
  TEST_TOPICS,
  type TestServer,
  testServer,
  testSettings,
} from './testing.ts';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.app.close();
  server = undefined;
});

function start(options: Parameters<typeof testServer>[0] = {}): TestServer {
  server = testServer(options);
  return server;
}

async function post(s: TestServer, body: string | Buffer, headers: Record<string, string> = authHeaders()) {
  return s.app.inject({ method: 'POST', url: '/v1/events', headers, payload: body });
}

describe('POST /v1/events', () => {
  it('accepts a valid batch, enriches it and produces one record per event keyed by sessionId', async () => {
    const s = start();
    const events = [sampleEvent('play_intent'), sampleEvent('segment_downloaded'), sampleEvent('pause')];
    const res = await post(s, batchBody(events), {
      ...authHeaders(),
      'user-agent': 'Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36',
      'x-forwarded-for': '192.0.2.7',
    });
    expect(res.statusCode).toBe(202);
    expect(res.json<WireAccepted>()).toEqual({ accepted: 3, rejected: [] });
    const records = s.sink.topic(TEST_TOPICS.events);
    expect(records.map((r) => r.key)).toEqual(events.map((e) => e.sessionId));
    const decoded = records.map((r) => s.events.decode(r.value));
    expect(decoded[1]?.segment).toEqual({ ...events[1]?.segment, url: null, cacheHit: null });
    expect(decoded[0]?.server).toMatchObject({
      deviceClass: 'tv',
      clockSkewMs: 0,
      ingestKeyId: ingestKeyId(TEST_KEY),
      // No trusted proxy: the socket peer (inject's 127.0.0.1) is the client, not X-Forwarded-For.
      isp: 'local',
    });
    expect(s.sink.topic(TEST_TOPICS.eventsDlq)).toHaveLength(0);
  });

  it('believes X-Forwarded-For from a trusted proxy only', async () => {
    const s = start({ settings: testSettings({ trustedProxies: ['127.0.0.1'] }) });
    const res = await post(s, batchBody([sampleEvent()]), {
      ...authHeaders(),
      'x-forwarded-for': '192.0.2.7',
    });
    expect(res.statusCode).toBe(202);
    const [record] = s.sink.topic(TEST_TOPICS.events);
    expect(s.events.decode(record?.value as Buffer).server).toMatchObject({
      isp: 'AS64496',
      region: 'eu-central',
      country: 'DE',
    });
  });

  it('estimates clock skew from sentAt and judges timestamps on the corrected clock', async () => {
    const serverNow = 1_700_000_000_000;
    const s = start({ now: () => serverNow });
    // The client's clock runs 2 hours ahead: its events look 2 h in the future, but are not.
    const skew = 2 * 3_600_000;
    const events = [sampleEvent('heartbeat', { clientTs: serverNow + skew - 500 })];
    const res = await post(s, batchBody(events, { sentAt: serverNow + skew }));
    expect(res.json<WireAccepted>()).toEqual({ accepted: 1, rejected: [] });
    const [record] = s.sink.topic(TEST_TOPICS.events);
    expect(s.events.decode(record?.value as Buffer).server.clockSkewMs).toBe(skew);

    // Without sentAt the same event is 2 h in the future: refused.
    const res2 = await post(s, batchBody(events));
    expect(res2.json<WireAccepted>().rejected).toEqual([
      expect.objectContaining({ index: 0, path: '$.events[0].clientTs', code: 'timestamp_out_of_range' }),
    ]);
  });

  it('passes the good events of a mixed batch and dead-letters each bad one with its raw bytes', async () => {
    const s = start();
    const good = [sampleEvent('heartbeat'), sampleEvent('seek')];
    const badText =
      '{"sessionId":"s-bad","seq":1,"viewerId":"v","titleId":"t","clientTs":1e400,"kind":"heartbeat"}';
    const body = `{"events":[${JSON.stringify(good[0])}, ${badText} ,${JSON.stringify(good[1])},"not an event"]}`;
    const res = await post(s, body);
    expect(res.statusCode).toBe(202);
    const answer = res.json<WireAccepted>();
    expect(answer.accepted).toBe(2);
    expect(answer.rejected).toEqual([
      {
        index: 1,
        path: '$.events[1].clientTs',
        code: 'not_finite',
        reason: expect.stringContaining('Infinity'),
      },
      { index: 3, path: '$.events[3]', code: 'not_an_object', reason: expect.stringContaining('a string') },
    ]);
    const letters = s.sink.topic(TEST_TOPICS.eventsDlq).map((r) => s.letters.decode(r.value));
    expect(letters).toHaveLength(2);
    // The payload is the event exactly as sent: 1e400 survives (JSON.stringify would say null).
    expect(letters[0]?.payload.toString('utf8')).toBe(badText);
    expect(letters[0]).toMatchObject({
      source: 'ingest',
      code: 'PLAYLOOP_INVALID_EVENT',
      path: '$.events[1].clientTs',
      sessionId: 's-bad',
      batchIndex: 1,
      originTopic: TEST_TOPICS.events,
      ingestKeyId: ingestKeyId(TEST_KEY),
    });
    expect(letters[1]?.payload.toString('utf8')).toBe('"not an event"');
    expect(s.sink.topic(TEST_TOPICS.eventsDlq)[0]?.key).toBe('s-bad');
  });

  it('answers 401 for a missing or unknown key, before reading the body', async () => {
    const s = start();
    const none = await post(s, batchBody([sampleEvent()]), { 'content-type': 'application/json' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="playloop-ingest"');
    const wrong = await post(s, batchBody([sampleEvent()]), authHeaders('another-key-9999'));
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json<WireError>().error.code).toBe('PLAYLOOP_UNAUTHORIZED');
    // 401 wins over a body that would be 413: the key is checked first.
    const big = await post(s, Buffer.alloc(2_000_000, 0x20), authHeaders('another-key-9999'));
    expect(big.statusCode).toBe(401);
    expect(s.sink.records).toHaveLength(0);
  });

  it('answers 415 for a body that is not application/json', async () => {
    const s = start();
    const res = await post(s, batchBody([sampleEvent()]), { ...authHeaders(), 'content-type': 'text/plain' });
    expect(res.statusCode).toBe(415);
    expect(res.json<WireError>().error.code).toBe('PLAYLOOP_UNSUPPORTED_MEDIA_TYPE');
    const charset = await post(s, batchBody([sampleEvent()]), {
      ...authHeaders(),
      'content-type': 'application/json; charset=utf-8',
    });
    expect(charset.statusCode).toBe(202);
  });

  it('answers 413 over maxBodyBytes and over maxEventsPerBatch', async () => {
    const s = start({ settings: testSettings({ maxBodyBytes: 4_096, maxEventsPerBatch: 3 }) });
    const big = await post(s, batchBody([sampleEvent('error', { viewerId: 'x'.repeat(5_000) })]));
    expect(big.statusCode).toBe(413);
    expect(big.json<WireError>().error.code).toBe('PLAYLOOP_PAYLOAD_TOO_LARGE');
    const many = await post(s, batchBody([sampleEvent(), sampleEvent(), sampleEvent(), sampleEvent()]));
    expect(many.statusCode).toBe(413);
    expect(many.json<WireError>().error.message).toMatch(/4 events; at most 3/);
  });

  it('answers 400 with a clear message for malformed JSON, bad UTF-8 and the wrong shape', async () => {
    const s = start();
    const cases: Array<[string | Buffer, RegExp]> = [
      ['{"events": [', /not valid JSON/],
      [Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]), /not valid UTF-8/],
      ['[]', /must be a JSON object/],
      ['{}', /\$\.events is missing/],
      ['{"events": {}}', /\$\.events must be an array/],
      ['{"events": [], "extra": 1}', /\$\.extra is not allowed/],
      ['{"events": [], "__proto__": {"x": 1}}', /\$\.__proto__ is not allowed/],
      ['{"events": [], "sentAt": "yesterday"}', /\$\.sentAt must be/],
      ['', /body is required/],
    ];
    for (const [body, message] of cases) {
      const res = await post(s, body);
      expect(res.statusCode, String(body)).toBe(400);
      expect(res.json<WireError>().error.message, String(body)).toMatch(message);
    }
    expect(s.sink.records).toHaveLength(0);
  });

  it('answers 429 with Retry-After over the per-key rate', async () => {
    let t = 1_700_000_000_000;
    const s = start({
      now: () => t,
      settings: testSettings({ rateLimit: { eventsPerSecond: 10, burstEvents: 20 }, maxEventsPerBatch: 20 }),
    });
    const batch = (n: number) =>
      batchBody(Array.from({ length: n }, () => sampleEvent('heartbeat', { clientTs: t })));
    expect((await post(s, batch(15))).statusCode).toBe(202);
    const limited = await post(s, batch(15));
    expect(limited.statusCode).toBe(429);
    // 5 tokens left, 15 needed at 10/s: 1 s until they are there.
    expect(limited.headers['retry-after']).toBe('1');
    expect(limited.json<WireError>().error.retriable).toBe(true);
    t += 1_000;
    expect((await post(s, batch(15))).statusCode).toBe(202);
  });

  it('answers 503 with Retry-After while Kafka is down, and again once it is back', async () => {
    const s = start();
    s.sink.available = false;
    const down = await post(s, batchBody([sampleEvent()]));
    expect(down.statusCode).toBe(503);
    expect(down.headers['retry-after']).toBe('1');
    expect(down.json<WireError>().error.code).toBe('PLAYLOOP_KAFKA_UNAVAILABLE');
    expect((await s.app.inject({ url: '/readyz' })).statusCode).toBe(503);
    s.sink.available = true;
    expect((await post(s, batchBody([sampleEvent()]))).statusCode).toBe(202);
    expect((await s.app.inject({ url: '/readyz' })).statusCode).toBe(200);
  });

  it('answers 503 when a send fails, accepting nothing of that request', async () => {
    const s = start();
    s.sink.failWith = new PlayloopError('KAFKA_UNAVAILABLE', 'broker went away');
    const res = await post(s, batchBody([sampleEvent(), sampleEvent()]));
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(s.inFlight.bytes).toBe(0);
  });

  it('answers 503 over the in-flight byte bound instead of holding more', async () => {
    const s = start({ settings: testSettings({ maxInFlightBytes: 4_096, maxBodyBytes: 4_096 }) });
    let open!: () => void;
    s.sink.gate = new Promise((resolve) => {
      open = resolve;
    });
    const body = batchBody(Array.from({ length: 12 }, () => sampleEvent()));
    expect(body.length).toBeLessThan(4_096);
    expect(body.length * 2).toBeGreaterThan(4_096);
    const first = post(s, body);
    await waitFor(() => s.inFlight.bytes > 0);
    const second = await post(s, body);
    expect(second.statusCode).toBe(503);
    expect(second.json<WireError>().error.code).toBe('PLAYLOOP_OVERLOADED');
    open();
    expect((await first).statusCode).toBe(202);
    expect(s.inFlight.bytes).toBe(0);
  });

  it('coalesces concurrent requests into one send, each answered after its records are acked', async () => {
    const s = start();
    let open!: () => void;
    s.sink.gate = new Promise((resolve) => {
      open = resolve;
    });
    const first = post(s, batchBody([sampleEvent()]));
    await waitFor(() => s.sink.sends === 1);
    const rest = Array.from({ length: 5 }, () => post(s, batchBody([sampleEvent(), sampleEvent()])));
    await waitFor(() => s.batcher.queuedRequests === 5);
    let answered = 0;
    for (const p of rest) void p.then(() => answered++);
    await new Promise((r) => setTimeout(r, 20));
    expect(answered).toBe(0);
    open();
    expect((await Promise.all([first, ...rest])).map((r) => r.statusCode)).toEqual([
      202, 202, 202, 202, 202, 202,
    ]);
    // One send for the first request, one for the five that queued behind it.
    expect(s.sink.sends).toBe(2);
    expect(s.sink.records).toHaveLength(11);
  });

  it('waits for accepted work on close and refuses new work while draining', async () => {
    const s = start();
    let open!: () => void;
    s.sink.gate = new Promise((resolve) => {
      open = resolve;
    });
    const pending = post(s, batchBody([sampleEvent()]));
    await waitFor(() => s.sink.sends === 1);
    const closing = s.app.close();
    let closed = false;
    void closing.then(() => {
      closed = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(closed).toBe(false);
    open();
    expect((await pending).statusCode).toBe(202);
    await closing;
    expect(s.sink.records).toHaveLength(1);
    server = undefined;
  });

  it('answers CORS preflights so a browser page can post', async () => {
    const s = start();
    const res = await s.app.inject({ method: 'OPTIONS', url: '/v1/events' });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-headers']).toContain('authorization');
    const posted = await post(s, batchBody([sampleEvent()]));
    expect(posted.headers['access-control-allow-origin']).toBe('*');
    expect(posted.headers['access-control-expose-headers']).toBe('retry-after');
  });
});

describe('CMCD beacons on /v1/cmcd', () => {
  // The CTA-5004 §5 example, with keys the schema does not have (nor, nrr, pr) ignored.
  const cmcd =
    'bl=21300,br=3200,bs,cid="faec5fc2-ac30-11eabb37-0242ac130002",d=4004,dl=18500,mtp=48100,' +
    'nor="..%2F300kbps%2Ftrack.m4v",nrr="12323-48763",ot=v,pr=1.08,rtp=12000,sf=d,' +
    'sid="6e2fb550-c457-11e9-bb97-0800200c9a66",st=v,su,tb=6000';

  it('maps a query-string beacon onto a heartbeat with its CMCD', async () => {
    const s = start();
    const res = await s.app.inject({
      method: 'GET',
      url: `/v1/cmcd?CMCD=${encodeURIComponent(cmcd)}`,
      headers: { authorization: `Bearer ${TEST_KEY}` },
    });
    expect(res.statusCode).toBe(202);
    expect(res.json<WireAccepted>()).toEqual({ accepted: 1, rejected: [] });
    const [record] = s.sink.topic(TEST_TOPICS.events);
    const event = s.events.decode(record?.value as Buffer);
    expect(event).toMatchObject({
      sessionId: '6e2fb550-c457-11e9-bb97-0800200c9a66',
      titleId: 'faec5fc2-ac30-11eabb37-0242ac130002',
      seq: -1,
      viewerId: '',
      kind: 'heartbeat',
      heartbeat: { bufferMs: 21_300, bitrateKbps: 3_200, droppedFrames: 0 },
      cmcd: {
        br: 3_200,
        bl: 21_300,
        mtp: 48_100,
        ot: 'v',
        st: 'v',
        sf: 'd',
        su: true,
        d: 4_004,
        rtp: 12_000,
        tb: 6_000,
        bs: true,
        dl: 18_500,
      },
    });
  });

  it('maps header shards plus the OCA measurements onto segment_downloaded', async () => {
    const s = start();
    const res = await s.app.inject({
      method: 'POST',
      url: '/v1/cmcd?oca=oca-b&bytes=1048576&ms=420',
      headers: {
        authorization: `Bearer ${TEST_KEY}`,
        'cmcd-object': 'br=3200,d=4004,ot=v,tb=6000',
        'cmcd-request': 'bl=21300,dl=18500,mtp=48100,su',
        'cmcd-session': 'cid="title-9",sid="sess-9",sf=h,st=v',
        'cmcd-status': 'bs,rtp=12000',
      },
    });
    expect(res.json<WireAccepted>()).toEqual({ accepted: 1, rejected: [] });
    const event = s.events.decode(s.sink.topic(TEST_TOPICS.events)[0]?.value as Buffer);
    expect(event).toMatchObject({
      sessionId: 'sess-9',
      titleId: 'title-9',
      kind: 'segment_downloaded',
      segment: { ocaId: 'oca-b', bytes: 1_048_576, downloadMs: 420, bitrateKbps: 3_200, durationMs: 4_004 },
      cmcd: { bs: true, rtp: 12_000, su: true, sf: 'h' },
    });
  });

  it('dead-letters a beacon that does not map, with the CMCD as it came', async () => {
    const s = start();
    const res = await s.app.inject({
      method: 'GET',
      url: `/v1/cmcd?CMCD=${encodeURIComponent('br=3200,sid="sess-1"')}`,
      headers: { authorization: `Bearer ${TEST_KEY}` },
    });
    expect(res.statusCode).toBe(202);
    expect(res.json<WireAccepted>()).toEqual({
      accepted: 0,
      rejected: [
        { index: 0, path: '$.query.CMCD.cid', code: 'cmcd_invalid', reason: expect.stringContaining('cid') },
      ],
    });
    const [letter] = s.sink.topic(TEST_TOPICS.eventsDlq).map((r) => s.letters.decode(r.value));
    expect(JSON.parse(letter?.payload.toString('utf8') ?? '')).toEqual({
      query: { CMCD: 'br=3200,sid="sess-1"' },
      headers: {},
    });
    expect(letter?.sessionId).toBe('sess-1');
  });

  it('needs the ingest key too', async () => {
    const s = start();
    const res = await s.app.inject({ method: 'GET', url: `/v1/cmcd?CMCD=${encodeURIComponent(cmcd)}` });
    expect(res.statusCode).toBe(401);
  });
});

describe('/healthz, /readyz, /metrics', () => {
  it('counts accepted, rejected by reason, dead-lettered, produce latency and in-flight bytes', async () => {
    const s = start();
    await post(
      s,
      batchBody([sampleEvent(), sampleEvent(), { kind: 'nope' }, sampleEvent('seek', { seq: -4 })]),
    );
    expect((await s.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await s.app.inject({ url: '/readyz' })).json()).toMatchObject({ status: 'ready', kafka: 'up' });
    const res = await s.app.inject({ url: '/metrics' });
    expect(res.headers['content-type']).toContain('text/plain');
    const text = res.body;
    expect(text).toMatch(/^playloop_ingest_events_accepted_total 2$/m);
    expect(text).toMatch(/^playloop_ingest_events_dead_lettered_total 2$/m);
    expect(text).toMatch(/^playloop_ingest_events_rejected_total\{reason="not_in_enum"\} 1$/m);
    expect(text).toMatch(/^playloop_ingest_events_rejected_total\{reason="out_of_range"\} 1$/m);
    expect(text).toMatch(/^playloop_ingest_events_rejected_total\{reason="forbidden_key"\} 0$/m);
    expect(text).toMatch(/^playloop_ingest_produce_latency_seconds_count 1$/m);
    expect(text).toMatch(/^playloop_ingest_in_flight_bytes 0$/m);
    expect(text).toMatch(/^playloop_ingest_kafka_up 1$/m);
    expect(text).toMatch(/^playloop_ingest_requests_total\{route="\/v1\/events",status="202"\} 1$/m);
  });

  it('keeps each server on its own registry', async () => {
    const a = testServer();
    const b = testServer();
    await post(a, batchBody([sampleEvent()]));
    expect((await b.app.inject({ url: '/metrics' })).body).toMatch(
      /^playloop_ingest_events_accepted_total 0$/m,
    );
    await a.app.close();
    await b.app.close();
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}
