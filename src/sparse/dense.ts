/** Dense training: masks are all ones and never change (kept for the reference's sparsity accounting). */
import type { Masking } from './masking.ts';
import type { SparsityController, UpdateRecord } from './controller.ts';

export class DenseController implements SparsityController {
  readonly method = 'dense';
  readonly seconds = 0;
  constructor(readonly masking: Masking) {}
  async beforeOptimizerStep(): Promise<void> {}

  /** No gradient-based growth: weight gradients may stay sparse. */
  needsDenseGradients(): boolean {
    return false;
  }
  async afterOptimizerStep(): Promise<UpdateRecord | null> {
    return null;
  }
  state(): Record<string, unknown> {
    return {};
  }
  restore(): void {}
  dispose(): void {
    this.masking.dispose();
  }
}
