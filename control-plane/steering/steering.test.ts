import { describe, expect, it } from 'vitest';
import { steeringManifest } from './manifest.ts';
import { parseSteeringQuery, SteeringTelemetry } from './telemetry.ts';

describe('steering manifest', () => {
  it('has the four keys hls.js reads, and refuses what would break a player', () => {
    expect(steeringManifest(['oca-b', 'oca-a'], 10, '/v1/steering/s?st=t')).toEqual({
      VERSION: 1,
      TTL: 10,
      'RELOAD-URI': '/v1/steering/s?st=t',
      'PATHWAY-PRIORITY': ['oca-b', 'oca-a'],
    });
    expect(() => steeringManifest([], 10, '/x')).toThrow(/at least one/);
    expect(() => steeringManifest(['a'], 0, '/x')).toThrow(/TTL/);
    expect(() => steeringManifest(['a'], 0.5, '/x')).toThrow(/TTL/);
  });
});

describe('steering telemetry', () => {
  it('reads _HLS_pathway and _HLS_throughput, ignoring malformed values', () => {
    expect(parseSteeringQuery({ _HLS_pathway: 'oca-a', _HLS_throughput: '5000000' })).toEqual({
      pathway: 'oca-a',
      throughputBps: 5_000_000,
    });
    expect(parseSteeringQuery({ _HLS_pathway: '.', _HLS_throughput: '123.5' })).toEqual({
      pathway: '.',
      throughputBps: 123.5,
    });
    expect(parseSteeringQuery({ _HLS_pathway: 'a b', _HLS_throughput: '-3' })).toEqual({
      pathway: undefined,
      throughputBps: undefined,
    });
    expect(parseSteeringQuery({ _HLS_throughput: '1e99' }).throughputBps).toBeUndefined();
    expect(parseSteeringQuery({})).toEqual({ pathway: undefined, throughputBps: undefined });
  });

  it('keeps the last report per session in a bounded LRU', () => {
    const t = new SteeringTelemetry(2);
    t.record('s1', { pathway: 'a', throughputBps: 1 }, 'a', 10);
    t.record('s2', { pathway: 'b', throughputBps: 2 }, 'b', 11);
    t.record('s1', { pathway: 'b', throughputBps: 3 }, 'b', 12);
    expect(t.last('s1')).toEqual({
      sessionId: 's1',
      pathway: 'b',
      throughputBps: 3,
      atMs: 12,
      requests: 2,
      servedFirst: 'b',
    });
    t.record('s3', { pathway: 'c', throughputBps: 4 }, 'c', 13);
    // s2 was the least recently used: gone; the map never holds more than 2.
    expect(t.last('s2')).toBeUndefined();
    expect(t.size).toBe(2);
  });
});
