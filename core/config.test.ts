import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { PlayloopError } from './errors.ts';

describe('loadConfig', () => {
  it('gives the design defaults with an empty environment', () => {
    const config = loadConfig({ env: {} });
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.registry.url).toBe('http://127.0.0.1:8081/apis/ccompat/v7');
    expect(config.clickhouse.url).toBeUndefined();
    expect([
      config.ingest.port,
      config.controlPlane.port,
      config.dashboard.port,
      config.oca.basePort,
    ]).toEqual([7070, 7071, 7072, 7100]);
    expect(config.topics.events).toBe('playback.events');
    expect(Object.isFrozen(config.kafka)).toBe(true);
  });

  it('reads the environment names the design fixes', () => {
    const config = loadConfig({
      env: {
        KAFKA_BROKERS: 'a:1, b:2',
        SCHEMA_REGISTRY_URL: 'http://r:9/apis/ccompat/v7',
        CLICKHOUSE_URL: 'http://ch:8123',
        PLAYLOOP_INGEST_KEYS: 'key-one-1234,key-two-5678',
        PLAYLOOP_DATA_DIR: '/tmp/x',
      },
    });
    expect(config.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(config.registry.url).toBe('http://r:9/apis/ccompat/v7');
    expect(config.clickhouse.url).toBe('http://ch:8123');
    expect(config.ingest.keys).toEqual(['key-one-1234', 'key-two-5678']);
    expect(config.dataDir).toBe('/tmp/x');
  });

  it('names the bad key and the variable it came from', () => {
    let caught: unknown;
    try {
      loadConfig({ env: { KAFKA_BROKERS: 'nohostport', PLAYLOOP_INGEST_PORT: '99999' } });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PlayloopError);
    const error = caught as PlayloopError;
    expect(error.code).toBe('PLAYLOOP_CONFIG_INVALID');
    expect(error.retriable).toBe(false);
    expect(error.message).toContain('kafka.brokers.0 (KAFKA_BROKERS)');
    expect(error.message).toContain('ingest.port (PLAYLOOP_INGEST_PORT)');
  });

  it('refuses unknown keys in code overrides rather than ignoring them', () => {
    expect(() => loadConfig({ env: {}, overrides: { kafka: { brokerz: 'x' } } })).toThrow(/kafka/);
  });
});
