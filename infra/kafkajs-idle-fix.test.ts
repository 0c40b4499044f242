import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { applyKafkajsIdleFix } from './kafkajs-idle-fix.ts';

interface QueueRequest {
  readonly entry: {
    readonly correlationId: number;
    readonly apiName: string;
    readonly apiKey: number;
    readonly apiVersion: number;
    resolve(): void;
    reject(): void;
  };
  readonly expectResponse: boolean;
  sendRequest(): void;
}

interface RequestQueue {
  readonly pending: readonly unknown[];
  readonly throttleCheckTimeoutId: unknown;
  push(request: QueueRequest): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void;
  checkPendingRequests(): void;
  destroy(): void;
}

const require = createRequire(import.meta.url);
const RequestQueueClass = require('kafkajs/src/network/requestQueue/index.js') as new (options: {
  maxInFlightRequests: number;
  requestTimeout: number;
  enforceRequestTimeout: boolean;
  clientId: string;
  broker: string;
  logger: { debug(): void; warn(): void };
}) => RequestQueue;

const quiet = { debug: () => undefined, warn: () => undefined };
let queue: RequestQueue | undefined;
afterEach(() => {
  queue?.destroy();
  vi.useRealTimers();
});

function newQueue(): RequestQueue {
  queue = new RequestQueueClass({
    maxInFlightRequests: 1,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'test',
    broker: 'localhost:9092',
    logger: quiet,
  });
  return queue;
}

describe('kafkajs idle timer fix', () => {
  it('arms no timer with nothing pending, and still sends what waits for an in-flight slot', () => {
    expect(applyKafkajsIdleFix()).toBe(true);
    expect(applyKafkajsIdleFix()).toBe(true);
    vi.useFakeTimers();
    const q = newQueue();
    // The unpatched queue re-arms a 1 ms timer here, forever.
    q.checkPendingRequests();
    expect(q.throttleCheckTimeoutId).toBeNull();

    const sent: number[] = [];
    const answered: number[] = [];
    const request = (correlationId: number): QueueRequest => ({
      entry: {
        correlationId,
        apiName: 'Produce',
        apiKey: 0,
        apiVersion: 3,
        resolve: () => answered.push(correlationId),
        reject: () => undefined,
      },
      expectResponse: true,
      sendRequest: () => sent.push(correlationId),
    });
    q.push(request(1));
    q.push(request(2)); // one in flight at most: this one waits
    expect(sent).toEqual([1]);
    expect(q.pending).toHaveLength(1);
    q.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 });
    expect(sent).toEqual([1, 2]);
    q.fulfillRequest({ correlationId: 2, payload: Buffer.alloc(0), size: 0 });
    expect(answered).toEqual([1, 2]);
    expect(q.pending).toHaveLength(0);
    // The check armed while request 2 waited fires once, finds nothing and does not re-arm.
    vi.advanceTimersByTime(100);
    expect(q.throttleCheckTimeoutId).toBeNull();
    expect(vi.getTimerCount()).toBe(0);
  });
});
