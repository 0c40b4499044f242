/**
 * A config topic (config.steering, config.abr) as the control plane reads it: the
 * ConfigTable of infra/config-topic.ts once its codec is registered, and until then the last
 * good documents from the table's snapshot file.
 *
 * ConfigTable already serves its snapshot while Kafka is away. What it cannot do is start
 * without a codec, and a codec needs the schema registry: if the registry is down when the
 * control plane starts, this reader serves the snapshot (same file, same format: a JSON
 * array of documents) and keeps trying in the background, with backoff; when the table
 * comes up it takes over and every listener hears about its documents.
 */
import { readFileSync } from 'node:fs';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { Kafka } from 'kafkajs';
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/log.ts';
import { backoffDelayMs, defaultBackoff, sleep } from '../../core/retry.ts';
import { ConfigTable, type Source, type VersionedDoc } from '../../infra/config-topic.ts';
import { AvroCodec, type AvroSchemaJson } from '../../infra/registry.ts';
import type { ConfigReader } from './planner.ts';

export interface ResilientConfigOptions {
  readonly kafka: Kafka;
  readonly registry: SchemaRegistry;
  readonly topic: string;
  readonly schema: AvroSchemaJson;
  readonly snapshotFile: string;
  readonly catchUpTimeoutMs: number;
  readonly log: Logger;
}

export class ResilientConfig<T extends VersionedDoc> implements ConfigReader<T> {
  private table: ConfigTable<T> | undefined;
  private readonly fallback = new Map<string, T>();
  private fallbackSource: Source = 'empty';
  private readonly listeners = new Set<(doc: T) => void>();
  private readonly abort = new AbortController();
  private retrying: Promise<void> | undefined;

  constructor(private readonly options: ResilientConfigOptions) {}

  /** Resolves once the table is following the topic, or once the snapshot is in force. */
  async start(): Promise<void> {
    try {
      await this.attach();
    } catch (err) {
      this.loadSnapshot();
      this.options.log.warn(
        { topic: this.options.topic, err: errorMessage(err), source: this.fallbackSource },
        'config reader cannot start (schema registry?); serving the snapshot and retrying',
      );
      this.retrying = this.retry();
    }
  }

  private async attach(): Promise<void> {
    const { kafka, registry, topic, schema, snapshotFile, log, catchUpTimeoutMs } = this.options;
    const codec = await AvroCodec.register<T>(registry, topic, schema);
    const table = new ConfigTable<T>(kafka, topic, codec, snapshotFile, log);
    table.onChange((doc) => this.emit(doc));
    await table.start({ catchUpTimeoutMs });
    if (this.abort.signal.aborted) {
      await table.stop();
      return;
    }
    this.table = table;
    for (const doc of table.all()) this.emit(doc);
  }

  private async retry(): Promise<void> {
    for (let attempt = 0; !this.abort.signal.aborted; attempt++) {
      try {
        await sleep(
          backoffDelayMs(attempt, { ...defaultBackoff, initialDelayMs: 500, maxDelayMs: 10_000 }),
          this.abort.signal,
        );
        await this.attach();
        this.options.log.info({ topic: this.options.topic }, 'config reader attached to its topic');
        return;
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.options.log.debug(
          { topic: this.options.topic, err: errorMessage(err) },
          'config reader retry failed',
        );
      }
    }
  }

  private loadSnapshot(): void {
    let docs: unknown;
    try {
      docs = JSON.parse(readFileSync(this.options.snapshotFile, 'utf8'));
    } catch {
      return;
    }
    if (!Array.isArray(docs)) return;
    for (const doc of docs as T[]) {
      if (typeof doc?.scope === 'string' && typeof doc.version === 'number')
        this.fallback.set(doc.scope, doc);
    }
    if (this.fallback.size > 0) this.fallbackSource = 'snapshot';
  }

  private emit(doc: T): void {
    for (const listener of this.listeners) listener(doc);
  }

  get(scope: string): T | undefined {
    return this.table !== undefined ? this.table.get(scope) : this.fallback.get(scope);
  }

  all(): T[] {
    return this.table !== undefined ? this.table.all() : [...this.fallback.values()];
  }

  health(): { source: Source; scopes: number; lastUpdateAt: number } {
    if (this.table !== undefined) return this.table.health();
    return { source: this.fallbackSource, scopes: this.fallback.size, lastUpdateAt: 0 };
  }

  onChange(listener: (doc: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.retrying?.catch(() => undefined);
    await this.table?.stop();
  }
}
