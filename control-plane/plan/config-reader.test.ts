import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { createKafka } from '../../infra/kafka.ts';
import { createRegistry } from '../../infra/registry.ts';
import { type SteeringConfig, schema as steeringSchema } from '../../schemas/generated/steering-config.ts';
import { ResilientConfig } from './config-reader.ts';
import { ocaHealth, steeringDoc } from './testing.ts';

describe('ResilientConfig', () => {
  it('serves the snapshot when the schema registry cannot be reached, and says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'playloop-cfg-reader-'));
    const snapshotFile = join(dir, 'steering.json');
    writeFileSync(
      snapshotFile,
      JSON.stringify([steeringDoc('global', 7, [ocaHealth('oca-a', 'degraded', 0.5)])]),
    );
    const reader = new ResilientConfig<SteeringConfig>({
      // Nothing listens on port 1: registration fails at once.
      kafka: createKafka(
        { brokers: ['127.0.0.1:1'], clientId: 'cfg-reader-test' },
        { retry: { retries: 0 } },
      ),
      registry: createRegistry('http://127.0.0.1:1/apis/ccompat/v7'),
      topic: 'never.used',
      schema: steeringSchema,
      snapshotFile,
      catchUpTimeoutMs: 500,
      log: silentLogger,
    });
    await reader.start();
    expect(reader.health()).toEqual({ source: 'snapshot', scopes: 1, lastUpdateAt: 0 });
    expect(reader.get('global')?.version).toBe(7);
    expect(reader.all().map((d) => d.scope)).toEqual(['global']);
    await reader.stop();
  });

  it('starts empty without a snapshot', async () => {
    const reader = new ResilientConfig<SteeringConfig>({
      kafka: createKafka(
        { brokers: ['127.0.0.1:1'], clientId: 'cfg-reader-test' },
        { retry: { retries: 0 } },
      ),
      registry: createRegistry('http://127.0.0.1:1/apis/ccompat/v7'),
      topic: 'never.used',
      schema: steeringSchema,
      snapshotFile: join(tmpdir(), 'playloop-no-such-snapshot.json'),
      catchUpTimeoutMs: 500,
      log: silentLogger,
    });
    await reader.start();
    expect(reader.health().source).toBe('empty');
    expect(reader.get('global')).toBeUndefined();
    await reader.stop();
  });
});
