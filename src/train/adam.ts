/**
 * Adam (Kingma & Ba), as torch.optim.Adam with weight_decay = 0: bias-corrected first and second moments,
 * `p -= lr · m̂ / (sqrt(v̂) + eps)`, one fused kernel per parameter (the `adam` kernel). Moments are dense
 * tensors owned by the optimizer; `state()` exposes them for checkpoints. Each update replaces the old
 * moments and moves the new value into the parameter, so a step leaves the live-tensor count unchanged.
 */
import type { Tensor } from '../tensor/tensor.ts';
import { engine } from '../tensor/engine.ts';
import { adamUpdate } from '../ops/optimizer.ts';
import { zerosLike } from '../ops/creation.ts';
import { assignInPlace } from '../tensor/assign.ts';

export interface AdamOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export class Adam {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** Number of steps taken (t in the paper). */
  t = 0;
  readonly m: Tensor[];
  readonly v: Tensor[];

  constructor(
    readonly params: Tensor[],
    opts: AdamOptions = {},
  ) {
    this.lr = opts.lr ?? 1e-3;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.m = params.map((p) => engine.keep(zerosLike(p)));
    this.v = params.map((p) => engine.keep(zerosLike(p)));
  }

  /** Apply one update from each parameter's `.grad` (parameters without a gradient are left alone). */
  step(): void {
    this.t++;
    const bc1 = 1 - this.beta1 ** this.t;
    const bc2 = 1 - this.beta2 ** this.t;
    // Same arithmetic as PyTorch's single-tensor Adam: step = lr / bc1, denom = sqrt(v)/sqrt(bc2) + eps.
    const stepSize = this.lr / bc1;
    const bc2Sqrt = Math.sqrt(bc2);
    const h = { beta1: this.beta1, beta2: this.beta2, eps: this.eps, stepSize, bc2Sqrt };
    engine.noGrad(() => {
      this.params.forEach((p, i) => {
        const g = p.grad;
        if (!g) return;
        const next = adamUpdate(p, g, this.m[i]!, this.v[i]!, h);
        this.m[i]!.dispose();
        this.v[i]!.dispose();
        this.m[i] = engine.keep(next.m);
        this.v[i] = engine.keep(next.v);
        assignInPlace(p, engine.keep(next.p));
      });
    });
  }

  /** Drop every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.params) {
      if (p.grad) {
        p.grad.dispose();
        p.grad = null;
      }
    }
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}
