import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { postRequest, quantile, runLoad } from './load.ts';

let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  server = undefined;
});

/** A server answering `{"n":<count>}`; `stallAt` blocks its event loop once for `stallMs`. */
async function start(options: { stallAt?: number; stallMs?: number; status?: number } = {}): Promise<number> {
  let count = 0;
  const created = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      count++;
      if (count === options.stallAt) {
        const until = performance.now() + (options.stallMs ?? 0);
        while (performance.now() < until) {
          // Busy: nothing else on this event loop runs, as in a long GC pause or a blocking flush.
        }
      }
      const body = JSON.stringify({ n: count });
      response.writeHead(options.status ?? 200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      response.end(body);
    });
  });
  server = created;
  await new Promise<void>((resolve) => created.listen(0, '127.0.0.1', resolve));
  return (created.address() as AddressInfo).port;
}

function requests(port: number): Buffer[] {
  return [postRequest('127.0.0.1', port, '/x', { authorization: 'Bearer t' }, '{"a":1}')];
}

describe('runLoad', () => {
  it('closed loop: keeps every connection busy for the duration and counts the answers', async () => {
    const port = await start();
    const result = await runLoad({
      host: '127.0.0.1',
      port,
      requests: requests(port),
      connections: 4,
      durationSec: 0.5,
    });
    expect(result.mode).toBe('closed');
    expect(result.errors).toBe(0);
    expect(result.non2xx).toBe(0);
    expect(result.ok).toBeGreaterThan(100);
    expect(result.p99Ms).toBeGreaterThan(0);
    expect(result.sendLagP99Ms).toBe(0);
  });

  it('open loop: sends the offered rate, no more', async () => {
    const port = await start();
    const result = await runLoad({
      host: '127.0.0.1',
      port,
      requests: requests(port),
      connections: 8,
      durationSec: 1,
      rate: 500,
    });
    expect(result.mode).toBe('open');
    expect(result.ok + result.non2xx + result.errors).toBe(500);
    expect(result.ok).toBe(500);
  });

  it('open loop: counts a stall against every request due during it (no coordinated omission)', async () => {
    // 1,000 req/s with 4 connections; the server stalls 200 ms at the 300th request. About 200
    // requests fall due during the stall and each waits for the rest of it: measured from their
    // due time, the slowest 10% all took 100 ms or more. Measured from the send (what a closed
    // loop records), only the 4 requests on the wire when it began see the stall.
    const port = await start({ stallAt: 300, stallMs: 200 });
    const result = await runLoad({
      host: '127.0.0.1',
      port,
      requests: requests(port),
      connections: 4,
      durationSec: 1,
      rate: 1_000,
    });
    expect(result.ok).toBe(1_000);
    expect(result.p90Ms).toBeGreaterThan(50);
    expect(result.maxMs).toBeGreaterThanOrEqual(190);
    expect(result.serviceP99Ms).toBeLessThan(result.p90Ms);
    // The wait for a busy connection happened here, in the generator: it shows as send lag.
    expect(result.sendLagP99Ms).toBeGreaterThan(50);
  });

  it('counts non-2xx answers apart from successes', async () => {
    const port = await start({ status: 401 });
    const result = await runLoad({
      host: '127.0.0.1',
      port,
      requests: requests(port),
      connections: 2,
      durationSec: 0.2,
      rate: 100,
    });
    expect(result.ok).toBe(0);
    expect(result.non2xx).toBe(20);
    expect(result.errors).toBe(0);
  });
});

describe('quantile', () => {
  it('is the nearest rank', () => {
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(sorted, 0.5)).toBe(50);
    expect(quantile(sorted, 0.99)).toBe(99);
    expect(quantile(sorted, 1)).toBe(100);
    expect(quantile(new Float64Array(0), 0.99)).toBe(0);
  });
});
