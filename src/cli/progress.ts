/**
 * Training progress on stderr: a redrawn bar (epoch, step, loss, it/s, ETA) on a terminal, plain lines
 * (one per ~10% of an epoch) otherwise, so logs stay readable in CI and files.
 */
export class Progress {
  private start = 0;
  private lastLine = -1;
  private readonly tty: boolean;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly epochs = 1,
  ) {
    this.tty = Boolean(out.isTTY);
  }

  beginEpoch(): void {
    this.start = performance.now();
    this.lastLine = -1;
  }

  /**
   * Report a finished step. `beginEpoch` runs when the epoch's first step has finished, so the rate counts the
   * steps since then (the first step has no rate yet: shown as –).
   */
  step(epoch: number, step: number, steps: number, loss: number): void {
    const secs = (performance.now() - this.start) / 1000;
    const rate = step > 1 && secs > 0 ? (step - 1) / secs : NaN;
    const eta = (steps - step) / rate;
    const shown = Number.isFinite(rate) ? `${rate.toFixed(2)} it/s ETA ${formatSeconds(eta)}` : step === steps ? '– it/s ETA 0.0s' : '– it/s ETA ?';
    const text = `epoch ${epoch}/${this.epochs} step ${step}/${steps} loss ${loss.toFixed(4)} ${shown}`;
    if (this.tty) {
      const width = 24;
      const filled = Math.round((step / steps) * width);
      this.out.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
      if (step === steps) this.out.write('\n');
    } else {
      const decile = Math.floor((step / steps) * 10);
      if (decile !== this.lastLine) {
        this.lastLine = decile;
        this.out.write(`${text}\n`);
      }
    }
  }

  line(text: string): void {
    this.out.write(`${text}\n`);
  }
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${Math.round(s % 60)}s` : `${s.toFixed(1)}s`;
}
