import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { controlPlaneUrl, ingestEndpoint, ingestSinkFromConfig } from './wiring.ts';

describe('fleet wiring from the config', () => {
  it('reaches services on loopback, whatever address they listen on', () => {
    const local = loadConfig({ env: {} });
    expect(ingestEndpoint(local)).toBe('http://127.0.0.1:7070');
    expect(controlPlaneUrl(local)).toBe('http://127.0.0.1:7071');
    const container = loadConfig({ env: { PLAYLOOP_BIND_HOST: '0.0.0.0', PLAYLOOP_INGEST_PORT: '8070' } });
    expect(ingestEndpoint(container)).toBe('http://127.0.0.1:8070');
    expect(ingestSinkFromConfig(container).stats().pending).toBe(0);
  });
});
