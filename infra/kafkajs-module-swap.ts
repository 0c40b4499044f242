/**
 * How playloop replaces one of kafkajs 2.2.4's internal modules (its record codecs, its send
 * grouping): the replacement goes into the CommonJS module cache in place of the module's
 * exports before the module that captures them (`capturedBy`, which requires it once, at its
 * own load) is loaded. Idempotent. Returns whether the replacement is the one kafkajs will
 * use: false when `capturedBy` was loaded before, and then kafkajs keeps its own module.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export interface ModuleSwap<T extends object> {
  /** The module replaced, e.g. 'kafkajs/src/producer/groupMessagesPerPartition.js'. */
  readonly module: string;
  /** The module that requires it and keeps what it got. */
  readonly capturedBy: string;
  /** Marks the replacement, so a second call recognises it (Symbol.for: one per process). */
  readonly marker: symbol;
  /** The replacement, given kafkajs' original exports. */
  readonly replacement: (original: T) => T;
}

export function swapKafkajsModule<T extends object>(swap: ModuleSwap<T>): boolean {
  const path = require.resolve(swap.module);
  const loaded = require.cache[path];
  if (loaded !== undefined && (loaded.exports as Record<symbol, unknown>)[swap.marker] === true) return true;
  if (require.cache[require.resolve(swap.capturedBy)] !== undefined) return false;
  const original = require(path) as T;
  const entry = require.cache[path];
  if (entry === undefined) return false;
  entry.exports = Object.assign(swap.replacement(original), { [swap.marker]: true });
  return true;
}
