import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  IngestClient,
  type IngestClientOptions,
  IngestGiveUpError,
  retryAfterMs,
  retryDelayMs,
} from './client.ts';
import type { WireBatch, WireEvent } from './wire.ts';

interface Call {
  url: string;
  init: RequestInit;
  batch: WireBatch;
}

type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | Error;

/** A fetch that answers from a script (the last answer repeats) and records every call. */
function scriptedFetch(answers: Answer[]) {
  const calls: Call[] = [];
  const fetchFn = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const batch = JSON.parse(String(init?.body)) as WireBatch;
    calls.push({ url: String(input), init: init ?? {}, batch });
    const answer = answers.length > 1 ? answers.shift() : answers[0];
    if (answer === undefined) throw new Error('no answer scripted');
    if (answer instanceof Error) throw answer;
    const body =
      answer.body ??
      (answer.status === 202
        ? { accepted: batch.events.length, rejected: [] }
        : { error: { code: 'X', message: `status ${answer.status}`, retriable: false } });
    return new Response(JSON.stringify(body), { status: answer.status, headers: answer.headers ?? {} });
  };
  return { calls, fetchFn: fetchFn as typeof fetch };
}

const event = (seq: number, sessionId = 's'): WireEvent => ({
  sessionId,
  seq,
  viewerId: 'v',
  titleId: 't',
  clientTs: 1_700_000_000_000 + seq,
  kind: 'heartbeat',
  heartbeat: { bufferMs: 1_000, bitrateKbps: 2_000 },
});

const clients: IngestClient[] = [];
function client(options: Partial<IngestClientOptions> & Pick<IngestClientOptions, 'fetch'>): IngestClient {
  const c = new IngestClient({
    endpoint: 'http://ingest.test/',
    key: 'key-123456',
    retry: { initialDelayMs: 1, maxDelayMs: 2, maxAttempts: 4 },
    onGiveUp: () => undefined,
    ...options,
  });
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => undefined);
  vi.restoreAllMocks();
});

describe('IngestClient', () => {
  it('sends a full batch at once, with the key, the JSON type and the send time', async () => {
    const { calls, fetchFn } = scriptedFetch([{ status: 202 }]);
    const c = client({ fetch: fetchFn, maxBatchEvents: 3, flushIntervalMs: 60_000, now: () => 42 });
    c.track(event(0));
    c.track(event(1));
    expect(calls).toHaveLength(0);
    c.track(event(2));
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    expect(calls[0]?.url).toBe('http://ingest.test/v1/events');
    expect(calls[0]?.init.method).toBe('POST');
    expect(calls[0]?.init.headers).toEqual({
      'content-type': 'application/json',
      authorization: 'Bearer key-123456',
    });
    expect(calls[0]?.batch).toEqual({ sentAt: 42, events: [event(0), event(1), event(2)] });
  });

  it('sends a partial batch after flushIntervalMs', async () => {
    const { calls, fetchFn } = scriptedFetch([{ status: 202 }]);
    const c = client({ fetch: fetchFn, maxBatchEvents: 100, flushIntervalMs: 30 });
    const started = Date.now();
    c.track(event(0));
    await vi.waitFor(() => expect(calls).toHaveLength(1), { timeout: 2_000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(c.stats.accepted).toBe(1);
  });

  it('splits by bytes too, and sends what was tracked, not later changes to the object', async () => {
    const { calls, fetchFn } = scriptedFetch([{ status: 202 }]);
    const c = client({ fetch: fetchFn, maxBatchEvents: 100, maxBatchBytes: 2_048, flushIntervalMs: 60_000 });
    const e = event(0);
    c.track(e);
    e.seq = 999;
    for (let i = 1; i < 20; i++) c.track(event(i));
    await c.flush();
    expect(calls.length).toBeGreaterThan(1);
    for (const call of calls) expect(String(call.init.body).length).toBeLessThanOrEqual(2_048);
    expect(calls.flatMap((call) => call.batch.events.map((x) => x.seq))).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
  });

  it('retries 503, 429 and network failures until accepted', async () => {
    const { calls, fetchFn } = scriptedFetch([
      { status: 503, headers: { 'retry-after': '0' } },
      new TypeError('fetch failed'),
      { status: 429 },
      { status: 202 },
    ]);
    const c = client({
      fetch: fetchFn,
      maxBatchEvents: 2,
      retry: { initialDelayMs: 1, maxDelayMs: 2, maxAttempts: 5 },
    });
    c.track(event(0));
    c.track(event(1));
    expect(await c.flush()).toEqual({ accepted: 2, rejected: 0, givenUp: 0 });
    expect(calls).toHaveLength(4);
    // Every attempt carries the same events, so (sessionId, seq) lets consumers drop duplicates.
    expect(new Set(calls.map((call) => JSON.stringify(call.batch.events))).size).toBe(1);
    expect(c.stats).toMatchObject({ accepted: 2, retries: 3, requests: 4, givenUp: 0 });
  });

  it('gives up loudly after maxAttempts: onGiveUp hears of every event, and flush rejects', async () => {
    const { calls, fetchFn } = scriptedFetch([{ status: 503 }]);
    const lost: WireEvent[] = [];
    const c = client({
      fetch: fetchFn,
      maxBatchEvents: 10,
      onGiveUp: (err, events) => {
        expect(err.reason).toBe('retries_exhausted');
        lost.push(...events);
      },
    });
    c.track(event(0));
    c.track(event(1));
    const err = await c.flush().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IngestGiveUpError);
    expect((err as IngestGiveUpError).message).toMatch(/gave up after 4 attempts: 503/);
    expect(calls).toHaveLength(4);
    expect(lost.map((e) => e.seq)).toEqual([0, 1]);
    expect(c.stats.givenUp).toBe(2);
  });

  it('does not retry what the server refuses (400, 401, 413), and says why', async () => {
    for (const status of [400, 401, 413]) {
      const { calls, fetchFn } = scriptedFetch([
        { status, body: { error: { code: 'C', message: 'nope', retriable: false } } },
      ]);
      const c = client({ fetch: fetchFn });
      c.track(event(0));
      const err = (await c.flush().catch((e: unknown) => e)) as IngestGiveUpError;
      expect(err.reason).toBe(status === 413 ? 'too_large' : 'refused');
      expect(err.status).toBe(status);
      expect(err.message).toContain('nope');
      expect(calls).toHaveLength(1);
    }
  });

  it('reports refused events from a 202 without retrying them', async () => {
    const rejected = [{ index: 1, path: '$.events[1].seq', reason: 'bad', code: 'out_of_range' }];
    const { calls, fetchFn } = scriptedFetch([{ status: 202, body: { accepted: 1, rejected } }]);
    const heard: unknown[] = [];
    const c = client({ fetch: fetchFn, onRejected: (r, events) => heard.push(r, events.length) });
    c.track(event(0));
    c.track(event(1));
    expect(await c.flush()).toEqual({ accepted: 1, rejected: 1, givenUp: 0 });
    expect(heard).toEqual([rejected, 2]);
    expect(calls).toHaveLength(1);
  });

  it('gives up on events it cannot hold: queue full, one event over the batch size, closed', async () => {
    const { fetchFn } = scriptedFetch([{ status: 202 }]);
    const reasons: string[] = [];
    const c = client({
      fetch: fetchFn,
      maxBatchEvents: 2,
      maxQueueEvents: 2,
      maxBatchBytes: 1_024,
      flushIntervalMs: 60_000,
      onGiveUp: (err) => reasons.push(err.reason),
    });
    c.track({ ...event(0), viewerId: 'x'.repeat(2_000) });
    await c.close();
    c.track(event(1));
    expect(reasons).toEqual(['too_large', 'closed']);
    const slow = client({
      fetch: () => new Promise<Response>(() => undefined),
      maxBatchEvents: 2,
      maxQueueEvents: 2,
      onGiveUp: (err) => reasons.push(err.reason),
    });
    slow.track(event(0));
    slow.track(event(1)); // a full batch: sent, and hangs
    slow.track(event(2));
    slow.track(event(3));
    slow.track(event(4)); // the queue holds 2
    expect(reasons).toEqual(['too_large', 'closed', 'queue_full']);
    clients.pop();
  });

  it('shouts on the console by default', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const { fetchFn } = scriptedFetch([{ status: 401 }]);
    const c = new IngestClient({ endpoint: 'http://ingest.test', key: 'k-12345678', fetch: fetchFn });
    c.track(event(0));
    await c.close().catch(() => undefined);
    expect(errors).toHaveBeenCalledWith(
      expect.stringMatching(/1 event\(s\) lost: ingest refused the batch \(401\)/),
    );
  });

  it('keeps one request in flight, so a session arrives in order', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const seen: number[] = [];
    const fetchFn = (async (_input: RequestInfo | URL, init?: RequestInit) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      const batch = JSON.parse(String(init?.body)) as WireBatch;
      seen.push(...batch.events.map((e) => e.seq));
      inFlight--;
      return new Response(JSON.stringify({ accepted: batch.events.length, rejected: [] }), { status: 202 });
    }) as typeof fetch;
    const c = client({ fetch: fetchFn, maxBatchEvents: 5, flushIntervalMs: 1 });
    for (let i = 0; i < 53; i++) c.track(event(i));
    await c.flush();
    expect(maxInFlight).toBe(1);
    expect(seen).toEqual(Array.from({ length: 53 }, (_, i) => i));
  });
});

describe('retry timing', () => {
  const policy = { initialDelayMs: 100, maxDelayMs: 1_000, multiplier: 2, maxAttempts: 5 };

  it('draws full jitter from [0, min(cap, base * 2^attempt)]', () => {
    expect(retryDelayMs(0, policy, () => 0.5, undefined)).toBe(50);
    expect(retryDelayMs(3, policy, () => 0.999, undefined)).toBe(799);
    expect(retryDelayMs(10, policy, () => 0.999, undefined)).toBe(999);
    expect(retryDelayMs(2, policy, () => 0, undefined)).toBe(0);
  });

  it('never retries sooner than Retry-After (seconds or an HTTP date, RFC 9110 §10.2.3)', () => {
    expect(retryDelayMs(0, policy, () => 0.5, 3_000)).toBe(3_000);
    expect(retryAfterMs('2', 0)).toBe(2_000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:05 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(
      5_000,
    );
    expect(retryAfterMs('soon', 0)).toBeUndefined();
    expect(retryAfterMs(null, 0)).toBeUndefined();
  });
});
