import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { configCommand } from './cli.ts';

// Usage errors are caught before anything is contacted: brokers that do not exist prove it.
const config = loadConfig({ env: {}, overrides: { kafka: { brokers: '127.0.0.1:1' } } });

async function run(argv: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await configCommand(
    argv,
    { log: (l) => lines.push(l), error: (l) => lines.push(l) },
    { config },
  );
  return { code, lines };
}

describe('playloop config', () => {
  it('prints its usage and exits 2 without a subcommand, 0 when asked for help', async () => {
    expect((await run([])).code).toBe(2);
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.lines.join('\n')).toContain('playloop config rollback [--scope S] [--to-version V]');
  });

  it('refuses unknown subcommands, options and bad versions with exit 2', async () => {
    expect(await run(['undo'])).toMatchObject({
      code: 2,
      lines: [expect.stringContaining('unknown subcommand undo')],
    });
    expect(await run(['rollback', '--force'])).toMatchObject({
      code: 2,
      lines: [expect.stringContaining('unknown option --force')],
    });
    expect(await run(['rollback', '--to-version', 'v1'])).toMatchObject({
      code: 2,
      lines: [expect.stringContaining('--to-version must be a version number, got "v1"')],
    });
  });
});
