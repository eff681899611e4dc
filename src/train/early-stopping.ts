/**
 * Time-Series-Library's EarlyStopping: the validation loss must improve (strictly, by more than `delta`) to
 * reset the counter; `patience` epochs without improvement stop training. The caller saves the best model
 * when `step` reports an improvement.
 */
export class EarlyStopping {
  best: number | null = null;
  counter = 0;
  stop = false;

  constructor(readonly patience: number, readonly delta = 0) {}

  /** Record one epoch's validation loss; true when it is the best so far. */
  step(valLoss: number): boolean {
    const score = -valLoss;
    if (this.best === null || score >= this.best + this.delta) {
      // TSLib counts `score < best + delta` as no improvement, so equality improves.
      this.best = score;
      this.counter = 0;
      return true;
    }
    this.counter++;
    if (this.counter >= this.patience) this.stop = true;
    return false;
  }

  state(): { best: number | null; counter: number; stop: boolean } {
    return { best: this.best, counter: this.counter, stop: this.stop };
  }

  restore(s: { best: number | null; counter: number; stop: boolean }): void {
    this.best = s.best;
    this.counter = s.counter;
    this.stop = s.stop;
  }
}
