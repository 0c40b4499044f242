/**
 * The `playloop` command: `run` (the roles), and the subcommands later issues add.
 * Exit codes: 0 ok, 1 failure, 2 usage or configuration error.
 */
import { errorMessage, isPlayloopError } from '../core/errors.ts';
import { experimentsCommand } from '../experiments/cli.ts';
import { configCommand } from '../processors/abr-tuning/cli.ts';
import { demoCommand } from './commands/demo.ts';
import { runCommand } from './commands/run.ts';

type Command = (argv: readonly string[]) => Promise<number>;

const commands: Record<string, { run: Command; help: string }> = {
  run: { run: runCommand, help: 'run --roles ingest,processors,control-plane,dashboard [--config file]' },
  experiments: {
    run: (argv) => experimentsCommand(argv),
    help: 'experiments validate [files...] | experiments analyze <key>',
  },
  demo: {
    run: demoCommand,
    help: 'demo [--minutes 2] [--players 300] [--seed 7] [--no-feedback] [--no-degradation] [--no-compare] [--experiment-min-runtime <minutes|definition>]',
  },
  config: {
    run: (argv) => configCommand(argv),
    help: 'config rollback [--scope S] [--to-version V] [--reason T] | history [--scope S]',
  },
};

function usage(): string {
  const lines = Object.values(commands).map((c) => `  playloop ${c.help}`);
  return `usage:\n${lines.join('\n')}`;
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help') {
    console.log(usage());
    return 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`playloop: unknown command "${name}"\n${usage()}`);
    return 2;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (isPlayloopError(err)) {
      console.error(`playloop: ${err.message}`);
      process.exit(err.code === 'PLAYLOOP_CONFIG_INVALID' || err.code === 'PLAYLOOP_USAGE' ? 2 : 1);
    }
    console.error(`playloop: ${errorMessage(err)}`);
    if (err instanceof Error && err.stack) console.error(err.stack);
    process.exit(1);
  },
);
