/** The `sparsecast` command: dispatch to subcommands; usage, per-command --help and --version. */
import { trainCommand } from './train-command.ts';
import { evalCommand, predictCommand } from './eval-command.ts';
import { sweepCommand } from './sweep-command.ts';
import { reportCommand } from './report-command.ts';
import { exportCommand } from './export-command.ts';
import { importCommand } from './import-command.ts';
import { benchCommand } from './bench-command.ts';
import { COMMANDS } from './commands.ts';
import { commandHelp } from './flags.ts';
import { didYouMean } from './did-you-mean.ts';
import { surviveClosedOutput } from './closed-output.ts';
// A JSON import: tsx reads it from the sources, esbuild inlines it into dist/cli.js, so both report the
// package's own version without finding package.json at run time.
import pkg from '../../package.json' with { type: 'json' };

export const VERSION: string = pkg.version;

const RUN: Record<string, (argv: string[]) => Promise<void>> = {
  train: trainCommand,
  eval: evalCommand,
  predict: predictCommand,
  sweep: (argv) => sweepCommand(argv),
  report: reportCommand,
  export: exportCommand,
  import: importCommand,
  bench: benchCommand,
  // Loaded on demand: BullMQ and ioredis are only needed by the queue commands.
  worker: async (argv) => (await import('./worker-command.ts')).workerCommand(argv),
};

/** The top-level usage, from the command tables (each command's flags: `sparsecast <command> --help`). */
export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `usage: sparsecast <command> [flags]

commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

  sparsecast <command> --help   that command's flags, defaults and allowed values
  sparsecast --version          the version (${VERSION})
`;
}

export async function main(argv: string[]): Promise<void> {
  surviveClosedOutput();
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    const about = command === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    process.stdout.write(about ? commandHelp(about) : usage());
    return;
  }
  if (command === '--version' || command === '-V' || command === 'version') {
    process.stdout.write(`sparsecast ${VERSION}\n`);
    return;
  }
  const spec = COMMANDS.find((c) => c.name === command);
  if (!spec) {
    const guess = didYouMean(command.replace(/^-+/, ''), COMMANDS.map((c) => c.name));
    const what = command.startsWith('-') ? 'flag' : 'command';
    throw new Error(`sparsecast: unknown ${what} '${command}'${guess ? `; did you mean '${guess}'?` : ''} ('sparsecast --help' lists the commands)`);
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(commandHelp(spec));
    return;
  }
  return RUN[spec.name]!(rest);
}
