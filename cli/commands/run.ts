/**
 * `playloop run --roles ingest,processors,control-plane,dashboard`: one program, several
 * roles, all in one process by default (like Loki's -target). At scale each role runs as
 * its own process and Kafka partitions and consumer groups spread the work.
 */
import { loadConfig, type PlayloopConfig } from '../../core/config.ts';
import { createLogger, type Logger } from '../../core/log.ts';
import { type ClickHouse, openAndMigrate } from '../../infra/clickhouse.ts';
import { parseArgs, stringOption } from '../args.ts';
import type { RoleContext, RunningRole } from '../role.ts';
import { loadRole, parseRoles } from '../roles.ts';

export interface RunningProcess {
  readonly roles: readonly RunningRole[];
  readonly config: PlayloopConfig;
  stop(): Promise<void>;
}

/** Starts the roles in this process; used by the CLI, the demo and end-to-end tests. */
export async function startRoles(
  config: PlayloopConfig,
  roleList: string | undefined,
  log: Logger,
): Promise<RunningProcess> {
  const names = parseRoles(roleList);
  const abort = new AbortController();
  let clickhouse: Promise<ClickHouse> | undefined;
  const running: RunningRole[] = [];
  const ctx: RoleContext = {
    config,
    log,
    signal: abort.signal,
    runningMetrics: () =>
      running.flatMap((r) => (r.metrics === undefined ? [] : [{ role: r.name, registry: r.metrics }])),
    clickhouse: () => {
      clickhouse ??= openAndMigrate({ ...config.clickhouse, dataDir: config.dataDir }).then(
        ({ ch, migrations }) => {
          if (migrations.applied.length > 0)
            log.info({ applied: migrations.applied }, 'clickhouse migrations applied');
          return ch;
        },
      );
      return clickhouse;
    },
  };
  const stop = async (): Promise<void> => {
    abort.abort(new Error('stopping'));
    // Reverse start order: endpoints stop taking work before the consumers behind them drain.
    for (const role of [...running].reverse()) {
      try {
        await role.stop();
        log.info({ role: role.name }, 'role stopped');
      } catch (err) {
        log.error({ role: role.name, err }, 'role did not stop cleanly');
      }
    }
    if (clickhouse) await (await clickhouse).close();
  };
  try {
    for (const name of names) {
      const start = await loadRole(name);
      const role = await start({ ...ctx, log: log.child({ role: name }) });
      running.push(role);
      log.info({ role: name, addresses: role.addresses }, 'role started');
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { roles: running, config, stop };
}

export async function runCommand(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, { values: ['roles', 'config'] });
  const config = loadConfig({ file: stringOption(args, 'config') });
  const log = createLogger();
  const proc = await startRoles(config, stringOption(args, 'roles'), log);
  if (proc.roles.some((r) => r.name === 'ingest') && process.env['PLAYLOOP_INGEST_KEYS'] === undefined) {
    console.log(
      `ingest key (local default; set PLAYLOOP_INGEST_KEYS in production): ${config.ingest.keys[0]}`,
    );
  }
  for (const role of proc.roles) console.log(`${role.name.padEnd(14)} ${role.addresses.join('  ')}`);
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      log.info({ signal }, 'stopping');
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  await proc.stop();
  return 0;
}
