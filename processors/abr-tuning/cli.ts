/**
 * `playloop config`: the operator's side of config.abr.
 *
 *   playloop config rollback [--scope S] [--to-version V] [--reason TEXT] [--config FILE]
 *   playloop config history [--scope S] [--config FILE]
 *
 * `rollback` undoes a promotion by publishing a NEW version whose knobs equal an earlier
 * version's (history is never rewritten): by default the version the current promotion
 * replaced, or `--to-version V`. Without `--scope` it takes the most recent promotion that is
 * still in force. It writes its audit record to ClickHouse when it can open it; when it
 * cannot (embedded ClickHouse held by a running `playloop run`), the running abr-tuning
 * processor records the version from the topic (plan.ts observedAudit).
 *
 * Exit codes, as for every playloop command: 0 done, 1 failure, 2 usage.
 */
import { userInfo } from 'node:os';
import { parseArgs, stringOption } from '../../cli/args.ts';
import { loadConfig, type PlayloopConfig } from '../../core/config.ts';
import { errorMessage, isPlayloopError, PlayloopError } from '../../core/errors.ts';
import type { CommandOutput } from '../../experiments/cli.ts';
import { type ClickHouse, openAndMigrate } from '../../infra/clickhouse.ts';
import { ConfigPublisher } from '../../infra/config-topic.ts';
import { createKafka, withAdmin } from '../../infra/kafka.ts';
import { AvroCodec, createRegistry } from '../../infra/registry.ts';
import { type AbrConfig, type AbrKnobs, schema as abrSchema } from '../../schemas/generated/abr-config.ts';
import { latestByScope, readTopicHistory, type TopicRecord } from '../steering/topic-history.ts';
import { describeKnobs, EMPTY_KNOBS } from './knobs.ts';
import { ABR_AUDIT_CONFIG, defaultRollbackTarget, planRollback } from './plan.ts';
import { type AuditRow, insertAudit, readAudit } from './store.ts';

const USAGE = [
  'usage: playloop config rollback [--scope S] [--to-version V] [--reason TEXT] [--config FILE]',
  '       playloop config history [--scope S] [--config FILE]',
].join('\n');

export interface ConfigCommandOptions {
  /** The validated config; loaded from the environment and --config otherwise. */
  readonly config?: PlayloopConfig;
  /** Who is acting, for the audit; `cli:<OS user>` otherwise. */
  readonly actor?: string;
  readonly clock?: () => number;
}

/** What the command knows about config.abr: the topic's retained versions and the audit. */
interface Knowledge {
  readonly records: readonly TopicRecord<AbrConfig>[];
  readonly latest: Map<string, AbrConfig>;
  /** Null when ClickHouse could not be opened (why in `auditNote`). */
  readonly audit: readonly AuditRow[] | null;
  readonly auditNote: string;
}

function actorName(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

async function openAudit(config: PlayloopConfig): Promise<{ ch: ClickHouse | null; note: string }> {
  try {
    const { ch } = await openAndMigrate({ ...config.clickhouse, dataDir: config.dataDir });
    return { ch, note: '' };
  } catch (err) {
    return {
      ch: null,
      note: `ClickHouse unavailable (${errorMessage(err).split('\n')[0]}); the running abr-tuning processor records the audit from the topic`,
    };
  }
}

async function learn(
  config: PlayloopConfig,
  codec: AvroCodec<AbrConfig>,
  ch: ClickHouse | null,
  note: string,
): Promise<Knowledge> {
  const kafka = createKafka(config.kafka);
  const topics = await withAdmin(kafka, (admin) => admin.listTopics());
  const records = topics.includes(config.topics.abr)
    ? await readTopicHistory(kafka, config.topics.abr, codec, {
        timeoutMs: config.feedback.catchUpTimeoutMs,
      })
    : [];
  let audit: AuditRow[] | null = null;
  let auditNote = note;
  if (ch !== null) {
    try {
      audit = await readAudit(ch.client, ch.database, ABR_AUDIT_CONFIG);
    } catch (err) {
      auditNote = `audit unreadable: ${errorMessage(err)}`;
    }
  }
  return { records, latest: latestByScope(records), audit, auditNote };
}

function knobsOfVersion(k: Knowledge, scope: string, version: number): AbrKnobs | undefined {
  if (version === 0) return EMPTY_KNOBS;
  const onTopic = k.records.find((r) => r.value.scope === scope && r.value.version === version);
  if (onTopic !== undefined) return onTopic.value.knobs;
  return k.audit?.find((a) => a.scope === scope && a.toVersion === version)?.knobsAfter;
}

/** The scope of the most recent promotion that is still the scope's current version. */
function latestPromotionScope(k: Knowledge): string {
  const promotions = [...k.latest.values()]
    .filter((d) => d.action === 'promote')
    .sort((a, b) => b.generatedAt - a.generatedAt);
  const newest = promotions[0];
  if (newest === undefined) {
    const scopes = [...k.latest.keys()].sort();
    throw new PlayloopError(
      'USAGE',
      `no promotion is in force${scopes.length > 0 ? ` (scopes: ${scopes.join(', ')})` : ''}; pass --scope and --to-version`,
    );
  }
  return newest.scope;
}

function versionOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value))
    throw new PlayloopError('USAGE', `--to-version must be a version number, got "${value}"`);
  return Number(value);
}

async function rollback(
  argv: readonly string[],
  out: CommandOutput,
  options: ConfigCommandOptions,
): Promise<number> {
  const args = parseArgs(argv, { values: ['scope', 'to-version', 'reason', 'config'] });
  if (args.positionals.length > 0)
    throw new PlayloopError('USAGE', `unexpected argument ${args.positionals[0]}`);
  const config = options.config ?? loadConfig({ file: stringOption(args, 'config') });
  const toVersion = versionOption(stringOption(args, 'to-version'));
  const clock = options.clock ?? Date.now;
  const actor = options.actor ?? actorName();

  const codec = await AvroCodec.register<AbrConfig>(
    createRegistry(config.registry.url),
    config.topics.abr,
    abrSchema,
  );
  const { ch, note } = await openAudit(config);
  try {
    const known = await learn(config, codec, ch, note);
    const scope = stringOption(args, 'scope') ?? latestPromotionScope(known);
    const current = known.latest.get(scope);
    if (current === undefined) {
      throw new PlayloopError('NOT_FOUND', `no ABR config for scope ${scope} on ${config.topics.abr}`);
    }
    const targetVersion = toVersion ?? defaultRollbackTarget(current);
    const knobs = knobsOfVersion(known, scope, targetVersion);
    if (knobs === undefined) {
      throw new PlayloopError(
        'NOT_FOUND',
        `the knobs of ${scope} v${targetVersion} are neither on ${config.topics.abr} (compacted away) nor in the audit` +
          (known.audit === null ? ` (${known.auditNote})` : ''),
      );
    }
    const reason = `requested by ${actor}: ${stringOption(args, 'reason') ?? 'manual rollback'}`;
    const { doc, audit } = planRollback({
      current,
      target: { version: targetVersion, knobs },
      reason,
      actor,
      nowMs: clock(),
    });
    const publisher = new ConfigPublisher(createKafka(config.kafka), config.topics.abr, codec);
    try {
      await publisher.publish(doc);
    } finally {
      await publisher.stop();
    }
    out.log(`${scope} v${doc.version} published: ${doc.evidence.reason}`);
    if (ch !== null) {
      await insertAudit(ch.client, ch.database, [audit]);
      out.log(`audit recorded in ${ch.database}.config_audit`);
    } else {
      out.log(`audit not recorded here: ${known.auditNote}`);
    }
    return 0;
  } finally {
    await ch?.close();
  }
}

async function history(
  argv: readonly string[],
  out: CommandOutput,
  options: ConfigCommandOptions,
): Promise<number> {
  const args = parseArgs(argv, { values: ['scope', 'config'] });
  const config = options.config ?? loadConfig({ file: stringOption(args, 'config') });
  const scope = stringOption(args, 'scope');
  const codec = await AvroCodec.register<AbrConfig>(
    createRegistry(config.registry.url),
    config.topics.abr,
    abrSchema,
  );
  const { ch, note } = await openAudit(config);
  try {
    const known = await learn(config, codec, ch, note);
    const versions = new Map<string, { scope: string; version: number; line: string }>();
    for (const a of known.audit ?? []) {
      if (scope !== undefined && a.scope !== scope) continue;
      const when = new Date(a.recordedAt).toISOString();
      versions.set(`${a.scope}\u0000${a.toVersion}`, {
        scope: a.scope,
        version: a.toVersion,
        line: `${a.scope} v${a.toVersion} ${when} ${a.action} by ${a.actor}: ${describeKnobs(a.knobsAfter ?? EMPTY_KNOBS)} (from v${a.fromVersion}) - ${a.reason}`,
      });
    }
    for (const { value: d } of known.records) {
      if (scope !== undefined && d.scope !== scope) continue;
      const id = `${d.scope}\u0000${d.version}`;
      if (versions.has(id)) continue;
      const when = new Date(d.generatedAt).toISOString();
      versions.set(id, {
        scope: d.scope,
        version: d.version,
        line: `${d.scope} v${d.version} ${when} ${d.action} (not audited yet): ${describeKnobs(d.knobs)} - ${d.evidence.reason}`,
      });
    }
    const lines = [...versions.values()].sort((a, b) =>
      a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : a.version - b.version,
    );
    if (lines.length === 0) out.log(`no ABR config versions${scope === undefined ? '' : ` for ${scope}`}`);
    for (const l of lines) out.log(l.line);
    if (known.audit === null) out.error(known.auditNote);
    return 0;
  } finally {
    await ch?.close();
  }
}

/** `playloop config <subcommand>`. */
export async function configCommand(
  argv: readonly string[],
  out: CommandOutput = console,
  options: ConfigCommandOptions = {},
): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    out.log(USAGE);
    return sub === undefined ? 2 : 0;
  }
  try {
    if (sub === 'rollback') return await rollback(rest, out, options);
    if (sub === 'history') return await history(rest, out, options);
    out.error(`playloop config: unknown subcommand ${sub}\n${USAGE}`);
    return 2;
  } catch (err) {
    if (isPlayloopError(err) && (err.code === 'PLAYLOOP_USAGE' || err.code === 'PLAYLOOP_CONFIG_INVALID')) {
      out.error(`playloop config ${sub}: ${err.message}\n${USAGE}`);
      return 2;
    }
    out.error(`playloop config ${sub}: ${errorMessage(err)}`);
    return 1;
  }
}
