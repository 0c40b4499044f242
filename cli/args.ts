/** A small, strict argv parser: `--name value`, `--name=value`, `--flag`, `--no-flag`, positionals. */
import { PlayloopError } from '../core/errors.ts';

export interface ParsedArgs {
  readonly positionals: string[];
  readonly options: Map<string, string | boolean>;
}

export function parseArgs(
  argv: readonly string[],
  spec: { flags?: readonly string[]; values?: readonly string[] },
): ParsedArgs {
  const flags = new Set(spec.flags ?? []);
  const values = new Set(spec.values ?? []);
  const positionals: string[] = [];
  const options = new Map<string, string | boolean>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    if (values.has(name)) {
      const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new PlayloopError('USAGE', `--${name} needs a value`);
      options.set(name, value);
    } else if (flags.has(name) && eq < 0) {
      options.set(name, true);
    } else if (name.startsWith('no-') && flags.has(name.slice(3)) && eq < 0) {
      options.set(name.slice(3), false);
    } else {
      const known = [...values].map((v) => `--${v} <value>`).concat([...flags].map((f) => `--${f}`));
      throw new PlayloopError('USAGE', `unknown option ${arg}; options: ${known.join(', ') || '(none)'}`);
    }
  }
  return { positionals, options };
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.options.get(name);
  return typeof v === 'string' ? v : undefined;
}
