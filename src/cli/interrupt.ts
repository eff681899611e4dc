/**
 * Ctrl-C and SIGTERM for the CLI commands. The first signal asks the running command to stop where it can
 * save its state (train: a checkpoint at the last completed step); a second one exits without saving, once the
 * step under way returns to the event loop (a synchronous kernel cannot be cut short). The exit
 * code is the shell's for death by that signal, 128 + its number: 130 for SIGINT, 143 for SIGTERM, so
 * scripts and job runners see the run as interrupted, not failed (1) and not finished (0).
 *
 * The command's work must return to the event loop now and then for the handler to run at all (the
 * trainer does, see src/backend/yield.ts).
 */
export type StopSignal = 'SIGINT' | 'SIGTERM';

export const SIGNAL_EXIT_CODE: Record<StopSignal, number> = { SIGINT: 130, SIGTERM: 143 };

export interface InterruptWatch {
  /** The first signal received, or null. */
  readonly signal: StopSignal | null;
  /** 130 / 143 for the first signal; 0 before one arrived. */
  readonly exitCode: number;
  /** Remove the handlers (the default action — death by the signal — applies again). */
  dispose(): void;
}

export interface WatchOptions {
  /** Stderr line(s) on the first signal. */
  onFirst?: (signal: StopSignal) => void;
  /** Before exiting on a second signal (sweep: pass it on to the runs). */
  onSecond?: (signal: StopSignal) => void;
  /** Exit at the first signal too (after `onFirst`): for commands with nothing to save (eval, predict). */
  exitAtOnce?: boolean;
  /** The process's exit; replaced in tests. */
  exit?: (code: number) => void;
}

export function watchInterrupts(opts: WatchOptions = {}): InterruptWatch {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let first: StopSignal | null = null;
  const handler = (signal: StopSignal) => {
    if (first) {
      process.stderr.write(`interrupt: second ${signal}, exiting now without waiting\n`);
      opts.onSecond?.(signal);
      exit(SIGNAL_EXIT_CODE[signal]);
      return;
    }
    first = signal;
    opts.onFirst?.(signal);
    if (opts.exitAtOnce) exit(SIGNAL_EXIT_CODE[signal]);
  };
  const signals: StopSignal[] = ['SIGINT', 'SIGTERM'];
  for (const s of signals) process.on(s, handler);
  return {
    get signal() {
      return first;
    },
    get exitCode() {
      return first ? SIGNAL_EXIT_CODE[first] : 0;
    },
    dispose() {
      for (const s of signals) process.off(s, handler);
    },
  };
}

/** One argument as the POSIX shell reads it back: bare when safe, else single-quoted. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command line that continues this process's run: the same node, node flags (a TS loader), script and
 * arguments, with `--resume` appended when absent. From process.argv, so it names exactly what was run.
 */
export function resumeCommandLine(
  argv: readonly string[] = process.argv,
  execArgv: readonly string[] = process.execArgv,
): string {
  const [node, script, ...args] = argv;
  const words = [node!, ...execArgv, script!, ...args];
  if (!args.includes('--resume')) words.push('--resume');
  return words.map(shellQuote).join(' ');
}

/**
 * What `train` prints when a signal stopped it: where the checkpoint is and the exact command that continues
 * the run, or that nothing was saved. Sets the exit code (130 / 143) for when the process ends.
 */
export function reportInterruptedRun(out: string | undefined, steps: number, signal: StopSignal): void {
  const lines = out
    ? [
      `interrupt: ${signal}: checkpoint saved after step ${steps} (${out}/checkpoint.safetensors); no result was written: the run did not finish.`,
      'Continue the run with:',
      `  ${resumeCommandLine()}`,
    ]
    : [`interrupt: ${signal}: stopped after step ${steps}. Without --out there is no checkpoint: nothing was saved and the run cannot be resumed.`];
  process.stderr.write(`${lines.join('\n')}\n`);
  process.exitCode = SIGNAL_EXIT_CODE[signal];
}

/** For commands with nothing to save (eval, predict): the first signal exits at once with 130 / 143. */
export function exitOnInterrupt(command: string): InterruptWatch {
  return watchInterrupts({
    exitAtOnce: true,
    onFirst: (signal) => process.stderr.write(`interrupt: ${signal}: sparsecast ${command} stopped; it had nothing to save and wrote no output\n`),
  });
}
