/**
 * Apache Kafka 4.x, single node, KRaft combined mode (broker + controller), from Maven
 * Central jars. Storage is formatted once with `StorageTool format --standalone`; after
 * that the broker always starts on its stored data, which it recovers itself after a crash.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PlayloopError } from '../core/errors.ts';
import { probeKafka } from '../infra/kafka.ts';
import {
  isOurs,
  type ProcessFiles,
  readRecord,
  startDetached,
  stopRecorded,
  waitUntilServing,
} from './processes.ts';
import { filesOf, markerOf, type StackSettings } from './settings.ts';

export type Say = (line: string) => void;

const SERVICE = 'kafka';

/** mvn dependency:copy-dependencies into the lib folder, skipped when the pom is unchanged. */
export function ensureKafkaJars(settings: StackSettings, say: Say): void {
  const pom = join(settings.projectDir, 'stack', 'pom.xml');
  const digest = createHash('sha256').update(readFileSync(pom)).digest('hex');
  const stamp = join(settings.kafka.libDir, '.pom.sha256');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return;
  say('kafka: fetching jars from Maven Central (mvn dependency:copy-dependencies)...');
  rmSync(settings.kafka.libDir, { recursive: true, force: true });
  mkdirSync(settings.kafka.libDir, { recursive: true });
  try {
    execFileSync(
      'mvn',
      ['-B', '-q', '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${settings.kafka.libDir}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } catch (cause) {
    const output =
      cause instanceof Error && 'stdout' in cause ? String((cause as { stdout: unknown }).stdout) : '';
    throw new PlayloopError('STACK_FAILED', `kafka: mvn could not fetch the jars:\n${output.slice(-2000)}`, {
      cause,
    });
  }
  writeFileSync(stamp, digest);
}

export function kafkaClasspath(settings: StackSettings): string {
  return `${settings.kafka.libDir}/*`;
}

function serverProperties(settings: StackSettings): string {
  const k = settings.kafka;
  return [
    '# Written by `npm run stack -- up`; edits are overwritten.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=127.0.0.1:${k.controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${k.port},CONTROLLER://127.0.0.1:${k.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${k.port},CONTROLLER://127.0.0.1:${k.controllerPort}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${join(k.dataDir, 'logs')}`,
    // One node: every internal topic has exactly one replica.
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // Tests and the demo start consumers often; waiting for more members only adds latency.
    'group.initial.rebalance.delay.ms=0',
    // Topics are created by playloop with their intended partitions and cleanup policy.
    'auto.create.topics.enable=false',
    'num.partitions=4',
    'log.retention.hours=24',
    '',
  ].join('\n');
}

function java(settings: StackSettings, mainClass: string, args: readonly string[]): string[] {
  return [
    `-Xms${Math.min(256, settings.kafka.heapMb)}m`,
    `-Xmx${settings.kafka.heapMb}m`,
    `-Dlog4j2.configurationFile=${join(settings.projectDir, 'stack', 'log4j2.properties')}`,
    markerOf(settings, SERVICE),
    '-cp',
    kafkaClasspath(settings),
    mainClass,
    ...args,
  ];
}

export interface KafkaStatus {
  readonly state: 'healthy' | 'unhealthy' | 'stopped' | 'external';
  readonly address: string;
  readonly detail: string;
}

export async function kafkaStatus(settings: StackSettings): Promise<KafkaStatus> {
  const address = settings.kafka.brokers.join(',');
  const record = readRecord(filesOf(settings, SERVICE));
  const running = record !== undefined && isOurs(record);
  try {
    const brokers = await probeKafka(settings.kafka.brokers);
    const owner = settings.kafka.external
      ? 'external'
      : running
        ? `pid ${record?.pid}`
        : 'not started by this stack';
    return { state: 'healthy', address, detail: `${owner}; brokers ${brokers.join(',')}` };
  } catch (err) {
    if (settings.kafka.external) return { state: 'unhealthy', address, detail: `external: ${String(err)}` };
    return running
      ? { state: 'unhealthy', address, detail: `pid ${record?.pid} is running but not answering yet` }
      : { state: 'stopped', address, detail: 'not running' };
  }
}

export async function kafkaUp(settings: StackSettings, say: Say): Promise<void> {
  if (settings.kafka.external) {
    say(`kafka: external (KAFKA_BROKERS=${settings.kafka.brokers.join(',')}), not started here`);
    return;
  }
  const files = filesOf(settings, SERVICE);
  const record = readRecord(files);
  // The jars are fetched (or found cached) either way: the benchmarks and some tests run
  // Kafka's own tools and private brokers from them.
  ensureKafkaJars(settings, say);
  if (record !== undefined && isOurs(record)) {
    say(`kafka: already running (pid ${record.pid})`);
  } else if (
    await probeKafka(settings.kafka.brokers).then(
      () => true,
      () => false,
    )
  ) {
    // Someone else's broker (another checkout's stack) already serves this address: use it
    // rather than fail to bind; `down` will not touch it, since this stack did not start it.
    say(
      `kafka: ${settings.kafka.brokers.join(',')} already answers and was not started by this stack; using it`,
    );
    return;
  } else {
    const propsFile = join(settings.kafka.dataDir, 'server.properties');
    mkdirSync(settings.kafka.dataDir, { recursive: true });
    writeFileSync(propsFile, serverProperties(settings));
    const logDirs = join(settings.kafka.dataDir, 'logs');
    const formatted = existsSync(join(logDirs, 'meta.properties'));
    if (record !== undefined) {
      // A record without its process: killed (kill -9, OOM, reboot) rather than stopped by `down`.
      say(
        `kafka: the broker recorded as pid ${record.pid} is no longer running (it was killed or crashed, not stopped by \`down\`).`,
      );
    }
    if (formatted) {
      say(
        `kafka: keeping stored data in ${logDirs}; the broker recovers its logs on start. ` +
          '`npm run stack -- reset` wipes it deliberately.',
      );
    } else {
      say(`kafka: formatting new KRaft storage in ${logDirs}`);
      formatStorage(settings, propsFile);
    }
    const started = startDetached(files, 'java', java(settings, 'kafka.Kafka', [propsFile]), {
      marker: markerOf(settings, SERVICE),
    });
    say(`kafka: started pid ${started.pid}, log ${files.logFile}`);
  }
  await waitReady(settings, files);
}

async function waitReady(settings: StackSettings, files: ProcessFiles): Promise<void> {
  await waitUntilServing(files, {
    service: 'kafka',
    exited:
      'the broker exited during start (if the stored data is damaged, `npm run stack -- reset` wipes it and starts clean)',
    what: 'Kafka to answer the admin client',
    timeoutMs: settings.readyTimeoutMs,
    probe: () => probeKafka(settings.kafka.brokers),
  });
}

function formatStorage(settings: StackSettings, propsFile: string): void {
  const clusterId = randomClusterId();
  try {
    execFileSync(
      'java',
      [
        `-Dlog4j2.configurationFile=${join(settings.projectDir, 'stack', 'log4j2.properties')}`,
        '-cp',
        kafkaClasspath(settings),
        'kafka.tools.StorageTool',
        'format',
        '--standalone',
        '-t',
        clusterId,
        '-c',
        propsFile,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } catch (cause) {
    const stderr =
      cause instanceof Error && 'stderr' in cause ? String((cause as { stderr: unknown }).stderr) : '';
    throw new PlayloopError('STACK_FAILED', `kafka: StorageTool format failed:\n${stderr.slice(-2000)}`, {
      cause,
    });
  }
}

/**
 * A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (what `random-uuid`
 * prints). Drawn again when it starts with '-', as Kafka's Uuid.randomUuid does: the storage
 * tool's argument parser takes `-t -A0h...` for two options, and 1 format in 64 failed.
 */
export function randomClusterId(): string {
  const bytes = new Uint8Array(16);
  for (;;) {
    crypto.getRandomValues(bytes);
    const id = Buffer.from(bytes).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export async function kafkaDown(settings: StackSettings, say: Say): Promise<void> {
  if (settings.kafka.external) return;
  const how = await stopRecorded(filesOf(settings, SERVICE), 30_000);
  say(`kafka: ${how}`);
}

export function kafkaReset(settings: StackSettings, say: Say): void {
  rmSync(settings.kafka.dataDir, { recursive: true, force: true });
  say(`kafka: stored data in ${settings.kafka.dataDir} deleted`);
}
