/**
 * `playloop experiments analyze <key>`: analyses one experiment from its definition and the
 * outcome tables in ClickHouse, prints the result as a table (or JSON), and stores it in
 * experiment_results.
 *
 * Exit codes, as for every playloop command: 0 analysed, 1 failure (unknown experiment,
 * ClickHouse), 2 usage or configuration error.
 */
import { join } from 'node:path';
import { parseArgs, stringOption } from '../../cli/args.ts';
import { loadConfig } from '../../core/config.ts';
import { errorMessage, isPlayloopError } from '../../core/errors.ts';
import { openAndMigrate } from '../../infra/clickhouse.ts';
import type { CommandOutput } from '../cli.ts';
import { loadExperiments } from '../definitions/validate.ts';
import type { TestMode } from '../stats/index.ts';
import { analyzeExperiment } from './analyze.ts';
import { formatResult } from './format.ts';

export const ANALYZE_USAGE =
  'usage: playloop experiments analyze <key> [--dir <definitions dir>] [--mode sequential|fixed-horizon] ' +
  '[--at <ISO time>] [--no-store] [--json] [--config <file>]';

/** The definitions folder: experiments/, where this folder lives. */
const DEFAULT_DIR = join(import.meta.dirname, '..');

const MODES: readonly TestMode[] = ['sequential', 'fixed-horizon'];

export async function experimentsAnalyzeCommand(
  argv: readonly string[],
  out: CommandOutput = console,
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out.log(ANALYZE_USAGE);
    return 0;
  }
  let key: string;
  let dir: string;
  let mode: TestMode;
  let now: number;
  let store: boolean;
  let json: boolean;
  let configFile: string | undefined;
  try {
    const args = parseArgs(argv, { values: ['dir', 'mode', 'at', 'config'], flags: ['store', 'json'] });
    if (args.positionals.length !== 1) throw new Error('expected exactly one experiment key');
    key = args.positionals[0] as string;
    dir = stringOption(args, 'dir') ?? DEFAULT_DIR;
    const modeOption = stringOption(args, 'mode') ?? 'sequential';
    if (!(MODES as readonly string[]).includes(modeOption))
      throw new Error(`--mode must be one of ${MODES.join(', ')}`);
    mode = modeOption as TestMode;
    const at = stringOption(args, 'at');
    now = at === undefined ? Date.now() : Date.parse(at);
    if (!Number.isFinite(now)) throw new Error(`--at ${at} is not a time (ISO 8601 expected)`);
    store = args.options.get('store') !== false;
    json = args.options.get('json') === true;
    configFile = stringOption(args, 'config');
  } catch (err) {
    out.error(`playloop experiments analyze: ${errorMessage(err)}\n${ANALYZE_USAGE}`);
    return 2;
  }

  let definitions: Awaited<ReturnType<typeof loadExperiments>>;
  try {
    definitions = await loadExperiments(dir);
  } catch (err) {
    out.error(`playloop experiments analyze: ${errorMessage(err)}`);
    return 2;
  }
  const definition = definitions.find((d) => d.key === key);
  if (definition === undefined) {
    out.error(
      `playloop experiments analyze: no experiment ${key} in ${dir}; known: ${definitions.map((d) => d.key).join(', ') || '(none)'}`,
    );
    return 1;
  }

  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({ file: configFile });
  } catch (err) {
    out.error(`playloop experiments analyze: ${errorMessage(err)}`);
    return 2;
  }
  const { ch } = await openAndMigrate({ ...config.clickhouse, dataDir: config.dataDir });
  try {
    const result = await analyzeExperiment(ch, definition, { now, mode, store });
    if (json) out.log(JSON.stringify(result, null, 2));
    else for (const line of formatResult(result)) out.log(line);
    return 0;
  } catch (err) {
    out.error(`playloop experiments analyze: ${isPlayloopError(err) ? err.message : errorMessage(err)}`);
    return 1;
  } finally {
    await ch.close();
  }
}
