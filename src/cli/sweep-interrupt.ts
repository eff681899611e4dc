/**
 * What `sweep` prints when a signal stopped it: the same sweep command with --resume continues it all
 * (finished runs kept, interrupted ones resumed, the rest started); it also names each run the signal stopped
 * with the exact `train … --resume` that continues it alone, and the runs that never started; no selection or
 * table is written.
 */
import { SIGNAL_EXIT_CODE, shellQuote, type StopSignal } from './interrupt.ts';

/** This process's sweep command line with --resume (once). */
function resumeArgv(): string[] {
  const argv = process.argv.slice(2);
  return argv.includes('--resume') ? argv : [...argv, '--resume'];
}

export function reportInterruptedSweep(
  signal: StopSignal,
  entry: readonly string[],
  stopped: readonly { name: string; args: readonly string[] }[],
  finished: number,
  notStarted: readonly string[],
): void {
  const lines = [`sweep: ${signal}: stopped; ${finished} run(s) had finished (their results are in their folders), no selection was made.`];
  if (stopped.length) {
    lines.push('Interrupted runs (each saved a checkpoint); continue them with:');
    for (const r of stopped) lines.push(`  ${r.name}: ${[process.execPath, ...entry, 'train', ...r.args, '--resume'].map(shellQuote).join(' ')}`);
  }
  if (notStarted.length) lines.push(`Not started: ${notStarted.join(', ')}`);
  lines.push(`Continue the whole sweep: ${[process.execPath, ...entry, ...resumeArgv()].map(shellQuote).join(' ')}`);
  process.stderr.write(`${lines.join('\n')}\n`);
  process.exitCode = SIGNAL_EXIT_CODE[signal];
}
