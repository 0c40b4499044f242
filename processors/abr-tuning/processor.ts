/**
 * ABR tuning: closes the experiment half of the loop. Timer-driven; every
 * `feedback.abr.intervalMs`:
 * 1. records, in config_audit, any config.abr version written elsewhere (a CLI rollback made
 *    while this process holds the embedded ClickHouse), so every version is audited;
 * 2. reads the latest experiment decisions (DecisionSource) and promotes each shipped
 *    cell's ABR knobs to `cohort:<experimentKey>` (plan.ts), once per (experiment, cell):
 *    a cell that was rolled back is never promoted again by the same decision;
 * 3. watches every promotion younger than `watchMs`: the cohort's guardrail metrics after
 *    the promotion against the `baselineMs` before it (guardrails.ts), and rolls back with
 *    an audit record as soon as a guardrail is breached beyond its margin.
 *
 * Every version is published first and audited second; a failure between the two leaves a
 * version without its author's audit row, which step 1 of the next tick records from the
 * document itself. Versions resume from the topic (read to its end at start), so they stay
 * monotonic across restarts.
 */
import { join } from 'node:path';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka } from 'kafkajs';
import type { PlayloopConfig } from '../../core/config.ts';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import type { ExperimentDefinition } from '../../experiments/definitions/schema.ts';
import { loadExperiments } from '../../experiments/definitions/validate.ts';
import type { ClickHouse } from '../../infra/clickhouse.ts';
import { ConfigPublisher, ConfigTable } from '../../infra/config-topic.ts';
import { ensureTopics, withAdmin } from '../../infra/kafka.ts';
import { AvroCodec } from '../../infra/registry.ts';
import { type AbrConfig, type AbrKnobs, schema as abrSchema } from '../../schemas/generated/abr-config.ts';
import { startTicker } from '../runtime/ticker.ts';
import { readTopicHistory } from '../steering/topic-history.ts';
import type { DecisionSource } from './decisions.ts';
import { describeBreach, evaluateGuardrails, type GuardrailResult } from './guardrails.ts';
import { EMPTY_KNOBS } from './knobs.ts';
import {
  ABR_AUDIT_CONFIG,
  ACTORS,
  type AuditRecord,
  observedAudit,
  planPromotion,
  planRollback,
} from './plan.ts';
import { cohortMetrics, insertAudit, readAudit } from './store.ts';

export interface AbrTuningDeps {
  readonly config: PlayloopConfig;
  readonly clickhouse: ClickHouse;
  readonly kafka: Kafka;
  readonly registry: SchemaRegistry;
  readonly log: Logger;
  readonly decisions: DecisionSource;
  /** Experiment definitions; loadExperiments(controlPlane.experimentsDir) by default. */
  readonly experiments?: () => Promise<readonly ExperimentDefinition[]>;
  /** Epoch ms. Date.now unless a test drives time. */
  readonly clock?: () => number;
  readonly onFatal?: (err: unknown) => void;
}

export interface AbrTickReport {
  readonly promoted: readonly AbrConfig[];
  readonly rolledBack: readonly AbrConfig[];
  readonly observed: number;
}

export interface AbrTuningStatus {
  readonly ticks: number;
  readonly failure: unknown;
  /** Current document per scope, as this process knows it. */
  readonly current: ReadonlyMap<string, AbrConfig>;
}

export interface AbrTuning {
  stop(): Promise<void>;
  /** Runs a tick now, serialised with the timer's. */
  tick(): Promise<AbrTickReport>;
  status(): AbrTuningStatus;
}

const key = (scope: string, version: number): string => `${scope}\u0000${version}`;

export async function startAbrTuning(deps: AbrTuningDeps): Promise<AbrTuning> {
  const { config, kafka, log } = deps;
  const settings = config.feedback.abr;
  const clock = deps.clock ?? Date.now;
  const topic = config.topics.abr;
  const db = deps.clickhouse.database;
  const client = deps.clickhouse.client;
  const experiments = deps.experiments ?? (() => loadExperiments(config.controlPlane.experimentsDir));

  await withAdmin(kafka, (admin) => ensureTopics(admin, [{ topic, partitions: 1, compacted: true }]));
  const codec = await AvroCodec.register<AbrConfig>(deps.registry, topic, abrSchema);

  // What is known: every version still on the topic, and every audit row.
  const current = new Map<string, AbrConfig>();
  const knobsByVersion = new Map<string, AbrKnobs>();
  const audited = new Set<string>();
  /** `<experiment>\0<cell>` promoted at some point. */
  const promotedCells = new Set<string>();
  const remember = (doc: AbrConfig): void => {
    knobsByVersion.set(key(doc.scope, doc.version), doc.knobs);
    if (doc.action === 'promote' && doc.evidence.experimentKey !== null && doc.evidence.cell !== null) {
      promotedCells.add(`${doc.evidence.experimentKey}\u0000${doc.evidence.cell}`);
    }
    const known = current.get(doc.scope);
    if (known === undefined || doc.version > known.version) current.set(doc.scope, doc);
  };
  const history = await readTopicHistory(kafka, topic, codec, {
    timeoutMs: config.feedback.catchUpTimeoutMs,
    onUnreadable: (offset, err) =>
      log.error({ topic, offset, err: errorMessage(err) }, 'unreadable ABR config skipped'),
  });
  const unaudited: AbrConfig[] = [];
  for (const { value } of history) remember(value);
  for (const row of await readAudit(client, db, ABR_AUDIT_CONFIG)) {
    audited.add(key(row.scope, row.toVersion));
    if (row.knobsAfter !== undefined) knobsByVersion.set(key(row.scope, row.toVersion), row.knobsAfter);
    if (row.action === 'promote' && row.experimentKey !== '')
      promotedCells.add(`${row.experimentKey}\u0000${row.cell}`);
  }
  for (const { value } of history) if (!audited.has(key(value.scope, value.version))) unaudited.push(value);

  // Versions others publish from now on (the CLI) arrive through the table.
  const table = new ConfigTable(
    kafka,
    topic,
    codec,
    join(config.dataDir, 'abr-tuning', 'config-abr.snapshot.json'),
    log,
  );
  table.onChange((doc) => {
    const before = current.get(doc.scope);
    remember(doc);
    if (!audited.has(key(doc.scope, doc.version)) && (before === undefined || doc.version > before.version)) {
      unaudited.push(doc);
    }
  });
  await table.start({ catchUpTimeoutMs: config.feedback.catchUpTimeoutMs });
  const publisher = new ConfigPublisher(kafka, topic, codec);

  let definitions: readonly ExperimentDefinition[] = [];
  let ticks = 0;

  const knobsOf = (scope: string, version: number): AbrKnobs | undefined =>
    version === 0 ? EMPTY_KNOBS : knobsByVersion.get(key(scope, version));

  async function publishAndAudit(doc: AbrConfig, audit: AuditRecord): Promise<void> {
    await publisher.publish(doc);
    remember(doc);
    await insertAudit(client, db, [audit]);
    audited.add(key(doc.scope, doc.version));
  }

  async function recordObserved(now: number): Promise<number> {
    const pending = unaudited.splice(0).filter((d) => !audited.has(key(d.scope, d.version)));
    const records = pending.map((d) =>
      observedAudit(d, d.previousVersion === null ? EMPTY_KNOBS : knobsOf(d.scope, d.previousVersion), now),
    );
    try {
      await insertAudit(client, db, records);
    } catch (err) {
      unaudited.unshift(...pending);
      throw err;
    }
    for (const d of pending) audited.add(key(d.scope, d.version));
    return pending.length;
  }

  async function promote(now: number): Promise<AbrConfig[]> {
    try {
      definitions = await experiments();
    } catch (err) {
      // A bad definition file must not stop the watch over promotions already made.
      log.error({ err: errorMessage(err) }, 'experiment definitions unreadable; using the last good set');
    }
    const promoted: AbrConfig[] = [];
    for (const decision of await deps.decisions.latest()) {
      const definition = definitions.find((d) => d.key === decision.experimentKey);
      const scopeDoc = current.get(`cohort:${decision.experimentKey}`);
      const plan = planPromotion({
        decision,
        definition,
        current: scopeDoc,
        alreadyPromoted: promotedCells.has(`${decision.experimentKey}\u0000${decision.cell ?? ''}`),
        nowMs: now,
      });
      if (plan.kind === 'skip') continue;
      await publishAndAudit(plan.doc, plan.audit);
      promoted.push(plan.doc);
      log.info({ scope: plan.doc.scope, version: plan.doc.version }, plan.doc.evidence.reason);
    }
    return promoted;
  }

  async function watch(now: number): Promise<AbrConfig[]> {
    const rolledBack: AbrConfig[] = [];
    for (const doc of [...current.values()]) {
      if (doc.action !== 'promote' || now - doc.generatedAt > settings.watchMs) continue;
      const definition = definitions.find((d) => d.key === doc.evidence.experimentKey);
      if (definition === undefined || definition.metrics.guardrails.length === 0) continue;
      const experimentKey = definition.key;
      const [before, after] = await Promise.all([
        cohortMetrics(client, db, {
          cohort: doc.targeting,
          experimentKey,
          fromMs: doc.generatedAt - settings.baselineMs,
          toMs: doc.generatedAt,
        }),
        cohortMetrics(client, db, {
          cohort: doc.targeting,
          experimentKey,
          fromMs: doc.generatedAt,
          toMs: now + 1,
        }),
      ]);
      const verdict = evaluateGuardrails(definition.metrics.guardrails, before, after, {
        alpha: definition.analysis.alpha,
        minSessions: settings.minSessions,
      });
      if (verdict.breached.length === 0) continue;
      const targetVersion = doc.previousVersion ?? 0;
      const targetKnobs = knobsOf(doc.scope, targetVersion);
      if (targetKnobs === undefined) {
        log.error(
          { scope: doc.scope, version: doc.version, targetVersion },
          'guardrail breached but the knobs to restore are unknown (not on the topic, not audited); roll back by hand',
        );
        continue;
      }
      const { doc: rollback, audit } = planRollback({
        current: doc,
        target: { version: targetVersion, knobs: targetKnobs },
        reason: `guardrail breached after the promotion: ${verdict.breached.map(describeBreach).join('; ')}`,
        actor: ACTORS.guardrail,
        nowMs: now,
        metrics: guardrailMetrics(verdict.breached),
        evidence: {
          window: {
            before: [doc.generatedAt - settings.baselineMs, doc.generatedAt],
            after: [doc.generatedAt, now],
          },
          guardrails: verdict.results,
        },
      });
      await publishAndAudit(rollback, audit);
      rolledBack.push(rollback);
      log.warn({ scope: rollback.scope, version: rollback.version }, rollback.evidence.reason);
    }
    return rolledBack;
  }

  async function runTick(): Promise<AbrTickReport> {
    const now = clock();
    ticks++;
    const observed = await recordObserved(now);
    const promoted = await promote(now);
    const rolledBack = await watch(now);
    return { promoted, rolledBack, observed };
  }

  const ticker = startTicker<AbrTickReport>(runTick, {
    intervalMs: settings.intervalMs,
    name: 'abr tuning',
    log,
    onFatal: deps.onFatal,
  });

  return {
    tick: ticker.tick,
    status: () => ({ ticks, failure: ticker.failure(), current: new Map(current) }),
    stop: async () => {
      await ticker.stop();
      await table.stop();
      await publisher.stop();
    },
  };
}

/** Breached guardrails as evidence metrics: `guardrail.<metric>.before|after|favourableBound|margin`. */
function guardrailMetrics(breached: readonly GuardrailResult[]): Record<string, number> {
  const metrics: Record<string, number> = {};
  for (const r of breached) {
    for (const [name, value] of [
      ['before', r.before],
      ['after', r.after],
      ['favourableBound', r.favourableBound],
      ['margin', r.margin],
    ] as const) {
      if (value !== null && Number.isFinite(value)) metrics[`guardrail.${r.metric}.${name}`] = value;
    }
  }
  return metrics;
}
