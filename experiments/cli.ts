/**
 * `playloop experiments validate [files or directories...]`: validates experiment
 * definitions, each file on its own and all of them as a set, and prints every problem as
 * `file: path: reason`. With no arguments it validates every YAML file directly in
 * experiments/ (the definitions; fixtures below it are not definitions).
 *
 * Exit codes, as for every playloop command: 0 all valid, 1 some definition is invalid,
 * 2 usage error.
 */
import { stat } from 'node:fs/promises';
import { relative } from 'node:path';
import { experimentsAnalyzeCommand } from './analysis/cli.ts';
import { experimentFilesIn, formatIssue, validateExperimentFiles } from './definitions/validate.ts';

/** Where a command prints; `console` is one. */
export interface CommandOutput {
  log(line: string): void;
  error(line: string): void;
}

/** The folder the definitions live in (this file's own folder). */
export const EXPERIMENTS_DIR = import.meta.dirname;

const VALIDATE_USAGE = 'usage: playloop experiments validate [file.yaml | directory ...]';

function display(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') ? path : rel;
}

async function expand(args: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const arg of args) {
    const info = await stat(arg).catch(() => undefined);
    if (info?.isDirectory()) files.push(...(await experimentFilesIn(arg)));
    else files.push(arg); // a missing file is reported by the validator as unreadable
  }
  return files;
}

export async function experimentsValidateCommand(
  argv: readonly string[],
  out: CommandOutput = console,
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out.log(VALIDATE_USAGE);
    return 0;
  }
  const unknownFlag = argv.find((a) => a.startsWith('-'));
  if (unknownFlag !== undefined) {
    out.error(`playloop experiments validate: unknown option ${unknownFlag}\n${VALIDATE_USAGE}`);
    return 2;
  }
  const files =
    argv.length === 0 ? (await experimentFilesIn(EXPERIMENTS_DIR)).map(display) : await expand(argv);
  if (files.length === 0) {
    out.error('playloop experiments validate: no experiment definitions found');
    return 1;
  }
  const report = await validateExperimentFiles(files);
  for (const issue of report.issues) out.error(formatIssue(issue));
  const invalidFiles = new Set(report.issues.map((i) => i.file));
  if (!report.ok) {
    out.error(
      `${invalidFiles.size} of ${files.length} definition file(s) invalid, ${report.issues.length} issue(s)`,
    );
    return 1;
  }
  const keys = report.experiments.map((e) => `${e.definition.key} (${e.definition.status})`);
  out.log(`${files.length} experiment definition(s) valid: ${keys.join(', ')}`);
  return 0;
}

/** `playloop experiments <subcommand>`: dispatches to the subcommands above. */
export async function experimentsCommand(
  argv: readonly string[],
  out: CommandOutput = console,
): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'validate') return experimentsValidateCommand(rest, out);
  if (sub === 'analyze') return experimentsAnalyzeCommand(rest, out);
  out.error(`playloop experiments: unknown subcommand ${sub ?? '(none)'}\n${VALIDATE_USAGE}`);
  return 2;
}
