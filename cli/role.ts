/**
 * The contract between the `playloop run` command and each role (ingest, processors,
 * control-plane, dashboard). A role gets the validated config and shared adapters, starts,
 * and hands back a handle whose `stop()` drains what it accepted before resolving.
 */

import type { Registry } from 'prom-client';
import type { PlayloopConfig } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import type { ClickHouse } from '../infra/clickhouse.ts';

export const ROLE_NAMES = ['ingest', 'processors', 'control-plane', 'dashboard'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

export interface RoleContext {
  readonly config: PlayloopConfig;
  readonly log: Logger;
  /**
   * ClickHouse for roles that need it, opened and migrated once per process (embedded
   * chDB binds its data directory to one process, so roles in a process share it).
   */
  clickhouse(): Promise<ClickHouse>;
  /** Aborted when the process is asked to stop. */
  readonly signal: AbortSignal;
  /** The metrics registries of the roles running in this process so far (for snapshots). */
  readonly runningMetrics?: () => ReadonlyArray<{ readonly role: RoleName; readonly registry: Registry }>;
}

export interface RunningRole {
  readonly name: RoleName;
  /** Human-readable addresses this role serves, printed at start. */
  readonly addresses: readonly string[];
  /** Its Prometheus registry, when it has one: the dashboard role snapshots it into ClickHouse. */
  readonly metrics?: Registry;
  /** Stops taking new work, finishes or hands back what was accepted, then resolves. */
  stop(): Promise<void>;
}

export type StartRole = (ctx: RoleContext) => Promise<RunningRole>;
