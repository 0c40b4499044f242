/**
 * `npm run stack -- up|down|status|logs|reset`: the local, Docker-free stack.
 * Idempotent: `up` twice leaves one of each; `down` stops only what `up` recorded.
 */
import { existsSync } from 'node:fs';
import { errorMessage, isPlayloopError } from '../core/errors.ts';
import { clickhouseStatus } from './clickhouse.ts';
import { kafkaDown, kafkaReset, kafkaStatus, kafkaUp } from './kafka.ts';
import { tailFile } from './processes.ts';
import { registryDown, registryReset, registryStatus, registryUp } from './registry.ts';
import { filesOf, loadStackSettings, type StackSettings } from './settings.ts';

const SERVICES = ['kafka', 'registry'] as const;
const say = (line: string): void => console.log(line);

async function up(settings: StackSettings): Promise<boolean> {
  const t0 = Date.now();
  say(`stack: ${settings.stackDir}`);
  // Fetch both sets of jars first (Maven's local cache is not safe for concurrent writers),
  // then start the two JVMs side by side.
  const results = await Promise.allSettled([kafkaUp(settings, say), registryUp(settings, say)]);
  let ok = true;
  for (const r of results) {
    if (r.status === 'rejected') {
      ok = false;
      console.error(`stack: ${errorMessage(r.reason)}`);
    }
  }
  const ch = await clickhouseStatus(settings);
  if (ch.state !== 'healthy') ok = false;
  say(`clickhouse: ${ch.state} (${ch.detail})`);
  say(ok ? `stack: up in ${((Date.now() - t0) / 1000).toFixed(1)} s` : 'stack: up FAILED (see above)');
  if (ok) await status(settings);
  return ok;
}

async function status(settings: StackSettings): Promise<boolean> {
  const [k, r, c] = await Promise.all([
    kafkaStatus(settings),
    registryStatus(settings),
    clickhouseStatus(settings),
  ]);
  const rows: Array<[string, string, string, string]> = [
    ['kafka', k.state, k.address, k.detail],
    ['registry', r.state, r.address, r.detail],
    ['clickhouse', c.state, c.address, c.detail],
  ];
  for (const [name, state, address, detail] of rows) {
    say(`${name.padEnd(11)} ${state.padEnd(10)} ${address}  (${detail})`);
  }
  return rows.every(([, state]) => state === 'healthy');
}

async function down(settings: StackSettings): Promise<boolean> {
  await Promise.all([registryDown(settings, say), kafkaDown(settings, say)]);
  return true;
}

function logs(settings: StackSettings, which: string | undefined, lines: number): boolean {
  const names = which ? [which] : [...SERVICES];
  for (const name of names) {
    if (!SERVICES.includes(name as (typeof SERVICES)[number])) {
      console.error(`stack: no service named ${name}; services: ${SERVICES.join(', ')}`);
      return false;
    }
    const { logFile } = filesOf(settings, name);
    say(`==> ${logFile} <==`);
    say(existsSync(logFile) ? tailFile(logFile, lines) : '(no log yet: never started)');
  }
  return true;
}

async function reset(settings: StackSettings): Promise<boolean> {
  await down(settings);
  kafkaReset(settings, say);
  registryReset(settings, say);
  return true;
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const settings = loadStackSettings();
  switch (command) {
    case 'up':
      return (await up(settings)) ? 0 : 1;
    case 'down':
      return (await down(settings)) ? 0 : 1;
    case 'status':
      return (await status(settings)) ? 0 : 1;
    case 'logs': {
      const n = rest.indexOf('--lines');
      const lines = n >= 0 ? Number(rest[n + 1]) : 50;
      const which = rest.find((a, i) => !a.startsWith('--') && rest[i - 1] !== '--lines');
      return logs(settings, which, lines) ? 0 : 1;
    }
    case 'reset':
      return (await reset(settings)) ? 0 : 1;
    default:
      console.error(
        'usage: npm run stack -- up|down|status|logs [kafka|registry] [--lines N]|reset\n' +
          '  up      start Kafka (KRaft) and Apicurio Registry, check ClickHouse; idempotent\n' +
          '  down    stop what up started (by recorded PIDs); data is kept\n' +
          '  status  each service, healthy or not, with its address\n' +
          '  logs    the last lines of each service log\n' +
          '  reset   down, then delete stored Kafka data and saved schemas',
      );
      return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(isPlayloopError(err) ? `stack: ${err.message}` : err);
    process.exit(1);
  },
);
