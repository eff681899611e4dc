/**
 * A command line parsed as the CLI parses it, from the repository root (so a TSLib line's ./data/ resolves),
 * with the warnings it writes to stderr collected instead of printed.
 */
import { vi } from 'vitest';
import { parseCommandArgs, type CommandSpec } from '../../src/cli/flags.ts';
import { REPO } from './cli.ts';

export function parseInRepo(spec: CommandSpec, argv: string[]): { flags: Map<string, string>; warnings: string[] } {
  const cwd = process.cwd();
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    process.chdir(REPO);
    const a = parseCommandArgs(spec, argv);
    return { flags: a.flags, warnings: spy.mock.calls.map((c) => String(c[0])) };
  } finally {
    process.chdir(cwd);
    spy.mockRestore();
  }
}
