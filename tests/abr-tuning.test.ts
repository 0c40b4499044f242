/**
 * ABR tuning on the real broker, registry and ClickHouse, against a test clock:
 * - a shipped experiment's cell is promoted to its cohort's scope only (other scopes keep
 *   their versions), and the control plane's resolver applies it to that cohort only;
 * - `playloop config rollback` publishes a new version with the previous version's knobs,
 *   audited, and the same decision is not promoted again;
 * - a promotion whose cohort then breaches a guardrail is rolled back automatically;
 * - the CLI run as its own process (as next to `playloop run`) still leaves an audit row.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveAbr } from '../control-plane/plan/abr.ts';
import type { PlayloopConfig } from '../core/config.ts';
import { silentLogger } from '../core/log.ts';
import { pollUntil } from '../core/retry.ts';
import { loadExperiments } from '../experiments/definitions/validate.ts';
import { type ClickHouse, openAndMigrate, queryRows } from '../infra/clickhouse.ts';
import { ConfigPublisher, ConfigTable } from '../infra/config-topic.ts';
import { createKafka, ensureTopics, withAdmin } from '../infra/kafka.ts';
import { AvroCodec, createRegistry } from '../infra/registry.ts';
import { configCommand } from '../processors/abr-tuning/cli.ts';
import { type ExperimentDecision, fixedDecisions } from '../processors/abr-tuning/decisions.ts';
import { EMPTY_KNOBS } from '../processors/abr-tuning/knobs.ts';
import { type AbrTuning, startAbrTuning } from '../processors/abr-tuning/processor.ts';
import {
  CONGESTED_PATH,
  createRng,
  HEALTHY_PATH,
  type SessionPlace,
  simulateSessionRows,
} from '../processors/steering/testing.ts';
import { type AbrConfig, type AbrKnobs, schema as abrSchema } from '../schemas/generated/abr-config.ts';
import { deleteTopics, testConfig } from './support/stack.ts';

const base = testConfig('abrtune');
const config: PlayloopConfig = {
  ...base,
  feedback: {
    ...base.feedback,
    abr: {
      ...base.feedback.abr,
      intervalMs: 100,
      baselineMs: 3_600_000,
      watchMs: 6 * 3_600_000,
      minSessions: 100,
    },
  },
};
const execFileAsync = promisify(execFile);
const T0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
const MIN = 60_000;

// Two experiments: the repository's abr-bandwidth-factor (TVs and desktops), and one on
// mobile's forward buffer written here, with the same guardrails.
const experimentsDir = mkdtempSync(join(tmpdir(), 'playloop-abr-exp-'));
copyFileSync(
  join(import.meta.dirname, '../experiments/abr-bandwidth-factor.yaml'),
  join(experimentsDir, 'abr-bandwidth-factor.yaml'),
);
writeFileSync(
  join(experimentsDir, 'abr-mobile-buffer.yaml'),
  readFileSync(join(import.meta.dirname, '../experiments/abr-bandwidth-factor.yaml'), 'utf8')
    .replace('key: abr-bandwidth-factor', 'key: abr-mobile-buffer')
    .replace('name: abr-bandwidth', 'name: abr-buffer')
    .replace('seed: abr-bandwidth-factor-2026-11', 'seed: abr-mobile-buffer-2026-11')
    .replace('deviceClasses: [tv, desktop]', 'deviceClasses: [mobile]')
    .replace('abr: { abrBandWidthFactor: 0.95 }', 'abr: { maxBufferLength: 30 }')
    .replace('name: headroom-0-8', 'name: short-buffer')
    .replace('abr: { abrBandWidthFactor: 0.8 }', 'abr: { maxBufferLength: 12 }'),
);

function decision(experimentKey: string, cell: string): ExperimentDecision {
  return {
    experimentKey,
    decision: 'ship',
    cell,
    reasons: [`Cell ${cell}: primary rebufferRatio better (adjusted p=0.001).`],
    decidedAt: T0 - MIN,
    windowStart: T0 - 14 * 86_400_000,
    windowEnd: T0 - MIN,
    metrics: { 'primary.rebufferRatio.relativeDifference': -0.15 },
  };
}

function doc(scope: string, version: number, knobs: Partial<AbrKnobs>, deviceClasses: string[]): AbrConfig {
  return {
    scope,
    version,
    generatedAt: T0 - 60 * MIN,
    knobs: { ...EMPTY_KNOBS, ...knobs },
    targeting: { deviceClasses, countries: [], isps: [] },
    action: 'manual',
    previousVersion: null,
    evidence: {
      reason: 'set by hand',
      experimentKey: null,
      cell: null,
      windowStart: null,
      windowEnd: null,
      metrics: {},
    },
  };
}

interface AuditRead {
  scope: string;
  action: string;
  from_version: number;
  to_version: number;
  knobs_before: string;
  knobs_after: string;
  actor: string;
  reason: string;
  source_rank: number;
}

let ch: ClickHouse | undefined;
let tuning: AbrTuning | undefined;
let table: ConfigTable<AbrConfig> | undefined;

afterAll(async () => {
  await tuning?.stop();
  await table?.stop();
  await ch?.close();
  await deleteTopics(config, [config.topics.abr]);
});

describe('ABR tuning (real Kafka, registry, ClickHouse)', () => {
  it('promotes to the cohort only, rolls back on request and on a guardrail breach, all audited', async () => {
    ch = (await openAndMigrate({ ...config.clickhouse, dataDir: config.dataDir })).ch;
    const client = ch.client;
    const db = ch.database;
    const kafka = createKafka(config.kafka);
    const registry = createRegistry(config.registry.url);
    const topic = config.topics.abr;
    await withAdmin(kafka, (admin) => ensureTopics(admin, [{ topic, partitions: 1, compacted: true }]));
    const codec = await AvroCodec.register<AbrConfig>(registry, topic, abrSchema);

    // Configs that exist before tuning starts, written without an audit row.
    const publisher = new ConfigPublisher(kafka, topic, codec);
    await publisher.publish(doc('global', 1, { abrBandWidthFactor: 0.95 }, []));
    await publisher.publish(doc('device:mobile', 1, { maxBufferLength: 20 }, ['mobile']));
    await publisher.publish(
      doc('cohort:abr-bandwidth-factor', 1, { abrBandWidthFactor: 0.9 }, ['tv', 'desktop']),
    );
    await publisher.stop();

    // The mobile cohort's sessions in the hour before any promotion: healthy.
    const rng = createRng(99);
    const mobile: SessionPlace = {
      ocaId: 'oca-a',
      isp: 'AS3320',
      region: 'eu-central',
      country: 'DE',
      deviceClass: 'mobile',
    };
    const before = simulateSessionRows(rng, 300, HEALTHY_PATH, mobile, {
      fromMs: T0 - 30 * MIN,
      toMs: T0,
      idPrefix: 'before',
    });
    await client.insert({ table: `${db}.sessions`, values: before, format: 'JSONEachRow' });

    let now = T0;
    const decisions = fixedDecisions([decision('abr-bandwidth-factor', 'headroom-0-8')]);
    tuning = await startAbrTuning({
      config,
      clickhouse: ch,
      kafka,
      registry,
      log: silentLogger,
      decisions,
      experiments: () => loadExperiments(experimentsDir),
      clock: () => now,
    });
    const running = tuning;
    table = new ConfigTable(
      kafka,
      topic,
      codec,
      join(mkdtempSync(join(tmpdir(), 'playloop-abr-')), 's.json'),
      silentLogger,
    );
    await table.start();
    const docs = table;
    const version = (scope: string, v: number): Promise<AbrConfig> =>
      pollUntil(async () => ((docs.get(scope)?.version ?? 0) >= v ? docs.get(scope) : undefined), {
        timeoutMs: 20_000,
        what: `${scope} v${v}`,
      });
    const ticksPass = async (n: number): Promise<void> => {
      const target = running.status().ticks + n;
      await pollUntil(async () => (running.status().ticks >= target ? true : undefined), {
        timeoutMs: 20_000,
        what: `${n} ticks`,
      });
    };
    const audit = (scope: string): Promise<AuditRead[]> =>
      queryRows<AuditRead>(
        client,
        `SELECT scope, action, from_version, to_version, knobs_before, knobs_after, actor, reason, source_rank
         FROM ${db}.config_audit FINAL WHERE scope = {scope:String} ORDER BY to_version`,
        { scope },
      );

    // 1. The shipped cell lands in its cohort's scope, and nowhere else.
    const promoted = await version('cohort:abr-bandwidth-factor', 2);
    expect(promoted).toMatchObject({
      action: 'promote',
      previousVersion: 1,
      knobs: { ...EMPTY_KNOBS, abrBandWidthFactor: 0.8 },
      targeting: { deviceClasses: ['tv', 'desktop'], countries: [], isps: [] },
      evidence: { experimentKey: 'abr-bandwidth-factor', cell: 'headroom-0-8' },
    });
    await ticksPass(3);
    expect(docs.get('global')?.version).toBe(1);
    expect(docs.get('device:mobile')?.version).toBe(1);
    expect(docs.get('cohort:abr-mobile-buffer')).toBeUndefined();
    // The control plane's resolver finds it for the cohort only.
    expect(
      resolveAbr(docs.all(), { deviceClass: 'tv', isp: 'AS3320', country: 'DE' }).knobs.abrBandWidthFactor,
    ).toBe(0.8);
    expect(resolveAbr(docs.all(), { deviceClass: 'mobile', isp: 'AS3320', country: 'DE' }).knobs).toEqual({
      abrBandWidthFactor: 0.95,
      maxBufferLength: 20,
    });
    const promotionAudit = await audit('cohort:abr-bandwidth-factor');
    expect(promotionAudit.map((a) => [a.to_version, a.action, a.actor, a.source_rank])).toEqual([
      [1, 'manual', 'observed-on-topic', 0],
      [2, 'promote', 'abr-tuning', 1],
    ]);
    expect(JSON.parse(promotionAudit[1]?.knobs_before ?? '{}')).toMatchObject({ abrBandWidthFactor: 0.9 });
    expect(JSON.parse(promotionAudit[1]?.knobs_after ?? '{}')).toMatchObject({ abrBandWidthFactor: 0.8 });

    // 2. An operator rolls it back: a new version with v1's knobs, audited; never re-promoted.
    const lines: string[] = [];
    const out = { log: (l: string) => lines.push(l), error: (l: string) => lines.push(`ERR ${l}`) };
    const code = await configCommand(['rollback', '--reason', 'bitrate complaints'], out, {
      config,
      actor: 'cli:test',
      clock: () => now,
    });
    expect(lines).toEqual([
      expect.stringMatching(
        /^cohort:abr-bandwidth-factor v3 published: rollback of cohort:abr-bandwidth-factor to the knobs of v1 \(abrBandWidthFactor=0\.9\), undoing v2/,
      ),
      `audit recorded in ${db}.config_audit`,
    ]);
    expect(code).toBe(0);
    const rolledBack = await version('cohort:abr-bandwidth-factor', 3);
    expect(rolledBack).toMatchObject({
      action: 'rollback',
      previousVersion: 2,
      knobs: doc('x', 1, { abrBandWidthFactor: 0.9 }, []).knobs,
    });
    await ticksPass(3);
    expect(docs.get('cohort:abr-bandwidth-factor')?.version).toBe(3);
    const afterRollback = await audit('cohort:abr-bandwidth-factor');
    expect(afterRollback.map((a) => [a.to_version, a.action, a.from_version, a.actor])).toEqual([
      [1, 'manual', 0, 'observed-on-topic'],
      [2, 'promote', 1, 'abr-tuning'],
      [3, 'rollback', 2, 'cli:test'],
    ]);
    expect(afterRollback[2]?.reason).toContain('requested by cli:test: bitrate complaints');

    // History lists every version.
    lines.length = 0;
    expect(await configCommand(['history', '--scope', 'cohort:abr-bandwidth-factor'], out, { config })).toBe(
      0,
    );
    expect(lines.map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual([
      'cohort:abr-bandwidth-factor v1',
      'cohort:abr-bandwidth-factor v2',
      'cohort:abr-bandwidth-factor v3',
    ]);

    // 3. The mobile experiment ships; its cohort then loses bitrate: rolled back automatically.
    decisions.set([
      decision('abr-bandwidth-factor', 'headroom-0-8'),
      decision('abr-mobile-buffer', 'short-buffer'),
    ]);
    const mobilePromotion = await version('cohort:abr-mobile-buffer', 1);
    expect(mobilePromotion).toMatchObject({
      action: 'promote',
      knobs: { ...EMPTY_KNOBS, maxBufferLength: 12 },
      generatedAt: T0,
    });
    // No sessions after the promotion yet: nothing to judge, nothing rolled back.
    await ticksPass(3);
    expect(docs.get('cohort:abr-mobile-buffer')?.version).toBe(1);

    const after = simulateSessionRows(rng, 300, CONGESTED_PATH, mobile, {
      fromMs: T0 + 1,
      toMs: T0 + 20 * MIN,
      idPrefix: 'after',
    });
    await client.insert({ table: `${db}.sessions`, values: after, format: 'JSONEachRow' });
    now = T0 + 20 * MIN;
    const autoRollback = await version('cohort:abr-mobile-buffer', 2);
    expect(autoRollback).toMatchObject({ action: 'rollback', previousVersion: 1, knobs: EMPTY_KNOBS });
    expect(autoRollback.evidence.reason).toMatch(
      /guardrail breached after the promotion: avgBitrateKbps \d+ after vs \d+ before/,
    );
    expect(autoRollback.evidence.metrics['guardrail.avgBitrateKbps.after']).toBeLessThan(
      autoRollback.evidence.metrics['guardrail.avgBitrateKbps.before'] ?? 0,
    );
    const guardAudit = await audit('cohort:abr-mobile-buffer');
    expect(guardAudit.map((a) => [a.to_version, a.action, a.actor])).toEqual([
      [1, 'promote', 'abr-tuning'],
      [2, 'rollback', 'abr-tuning/guardrail'],
    ]);
    await ticksPass(3);
    expect(docs.get('cohort:abr-mobile-buffer')?.version).toBe(2);
    expect(docs.get('global')?.version).toBe(1);
    expect(docs.get('device:mobile')?.version).toBe(1);

    // 4. `playloop config` from another process, as an operator runs it next to `playloop run`.
    // With embedded ClickHouse this process holds the database, so the CLI cannot write the
    // audit: the running tuning records the version from the topic instead.
    const dir = mkdtempSync(join(tmpdir(), 'playloop-abr-cli-'));
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(config));
    const script = join(dir, 'config-command.mts');
    writeFileSync(
      script,
      `import { configCommand } from ${JSON.stringify(join(import.meta.dirname, '../processors/abr-tuning/cli.ts'))};\n` +
        'process.exit(await configCommand(process.argv.slice(2)));\n',
    );
    const child = await execFileAsync(
      'npx',
      [
        'tsx',
        script,
        'rollback',
        '--scope',
        'cohort:abr-mobile-buffer',
        '--to-version',
        '1',
        '--reason',
        'false alarm',
      ],
      {
        cwd: join(import.meta.dirname, '..'),
        env: { ...process.env, PLAYLOOP_CONFIG: configFile },
        timeout: 90_000,
      },
    );
    expect(child.stdout).toContain(
      'cohort:abr-mobile-buffer v3 published: rollback of cohort:abr-mobile-buffer to the knobs of v1',
    );
    const reapplied = await version('cohort:abr-mobile-buffer', 3);
    expect(reapplied).toMatchObject({ action: 'rollback', previousVersion: 2, knobs: mobilePromotion.knobs });
    const v3 = await pollUntil(
      async () => (await audit('cohort:abr-mobile-buffer')).find((a) => a.to_version === 3),
      { timeoutMs: 20_000, what: 'the audit row of the CLI rollback' },
    );
    expect(v3.reason).toContain('requested by cli:');
    expect(v3.reason).toContain('false alarm');
    expect(JSON.parse(v3.knobs_before)).toEqual(EMPTY_KNOBS);
    expect(JSON.parse(v3.knobs_after)).toMatchObject({ maxBufferLength: 12 });
    if (config.clickhouse.url === undefined) {
      expect(child.stdout).toContain('audit not recorded here');
      expect([v3.actor, v3.source_rank]).toEqual(['observed-on-topic', 0]);
    } else {
      expect(v3.actor).toMatch(/^cli:/);
    }
    expect(running.status().failure).toBeUndefined();
  });
});
