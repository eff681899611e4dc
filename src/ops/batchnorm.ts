/**
 * Batch normalisation over the channel axis of x [N, C, L] (or [N, C]), as torch.nn.BatchNorm1d.
 *
 * API: `batchNorm1d(x, gamma, beta, running, opts)`.
 * - `gamma`, `beta`: f32 [C] or null (affine = false).
 * - `running`: a `BatchNormRunning` state object `{ mean, var }` holding f32 [C] tensors, or null to keep no
 *   running statistics (then batch statistics are used in both modes, as track_running_stats = false).
 *   In training mode the op REPLACES `running.mean` and `running.var` with new tensors (the old ones are
 *   disposed; the new ones are kept out of any tidy scope, so the state object owns them). Hold on to the
 *   state object, not to its tensors.
 * - training: normalise with the batch mean and the biased batch variance; update
 *   running = (1 − momentum)·running + momentum·batch, with the UNBIASED variance (n/(n−1)), as PyTorch.
 * - eval: normalise with the running statistics (differentiable in x, gamma, beta).
 *
 * The training-mode gradient is one tape node written with ops:
 *   x̂ = (x − μ)·rstd, dx̂ = g·γ, dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), dγ = Σ g·x̂, dβ = Σ g,
 * with means and sums over N and L.
 */
import { record } from '../autograd/tape.ts';
import { engine } from '../tensor/engine.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { shapeToString } from '../tensor/shape.ts';
import { checkDtype, checkRank, storages, wrap } from './util.ts';
import { add, mul, sub } from './binary.ts';
import { reshape } from './reshape.ts';
import { mean, sum } from './reduce.ts';
import { rsqrt } from './unary.ts';

export interface BatchNormRunning {
  /** f32 [C] running mean (replaced in training mode). */
  mean: Tensor;
  /** f32 [C] running (unbiased) variance (replaced in training mode). */
  var: Tensor;
}

export interface BatchNormOptions {
  training?: boolean;
  momentum?: number;
  eps?: number;
}

function checkVector(op: string, t: Tensor | null | undefined, C: number, what: string): void {
  if (!t) return;
  checkDtype(op, t, ['f32'], what);
  if (t.rank !== 1 || t.shape[0] !== C) {
    throw new Error(`${op}: ${what} has shape ${shapeToString(t.shape)}; expected [${C}]`);
  }
}

export function batchNorm1d(
  x: Tensor,
  gamma: Tensor | null,
  beta: Tensor | null,
  running: BatchNormRunning | null,
  opts: BatchNormOptions = {},
): Tensor {
  const op = 'batchNorm1d';
  const training = opts.training ?? true;
  const momentum = opts.momentum ?? 0.1;
  const eps = opts.eps ?? 1e-5;
  checkRank(op, x, [2, 3]);
  checkDtype(op, x, ['f32']);
  const N = x.shape[0]!;
  const C = x.shape[1]!;
  const L = x.rank === 3 ? x.shape[2]! : 1;
  checkVector(op, gamma, C, 'gamma');
  checkVector(op, beta, C, 'beta');
  if (running) {
    checkVector(op, running.mean, C, 'running mean');
    checkVector(op, running.var, C, 'running var');
  }
  const count = N * L;
  const useBatch = training || !running;
  if (useBatch && count <= 1 && training) {
    throw new Error(`${op}: expected more than 1 value per channel when training, got input ${shapeToString(x.shape)}`);
  }
  const view = x.rank === 3 ? [1, C, 1] : [1, C];
  const axes = x.rank === 3 ? [0, 2] : [0];

  if (!useBatch) {
    // Eval: plain differentiable ops with the running statistics.
    const r = running!;
    return engine.tidy(() => {
      const rstd = rsqrt(add(r.var, eps));
      let y = mul(sub(x, reshape(r.mean, view)), reshape(rstd, view));
      if (gamma) y = mul(y, reshape(gamma, view));
      if (beta) y = add(y, reshape(beta, view));
      return y;
    });
  }

  const { backend, s } = storages(op, x);
  const stats = backend.kernels.batchNormStats(s[0]!, [N, C, L]);
  const bMean = wrap(stats.mean, [C], backend);
  const bVar = wrap(stats.variance, [C], backend);

  const { y, xhat, rstd } = engine.noGrad(() =>
    engine.tidy(() => {
      const rstdT = rsqrt(add(bVar, eps));
      const xh = mul(sub(x, reshape(bMean, view)), reshape(rstdT, view));
      let yy = xh;
      if (gamma) yy = mul(yy, reshape(gamma, view));
      if (beta) yy = add(yy, reshape(beta, view));
      if (yy === xh) yy = reshape(xh, xh.shape);
      return { y: yy, xhat: xh, rstd: rstdT };
    }),
  );

  if (training && running) {
    engine.noGrad(() => {
      const [newMean, newVar] = engine.tidy(() => [
        add(mul(running.mean, 1 - momentum), mul(bMean, momentum)),
        add(mul(running.var, 1 - momentum), mul(bVar, (momentum * count) / Math.max(count - 1, 1))),
      ]);
      running.mean.dispose();
      running.var.dispose();
      running.mean = engine.keep(newMean!);
      running.var = engine.keep(newVar!);
    });
  }
  bMean.dispose();
  bVar.dispose();

  const inputs = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  record(op, inputs, [y], ([g]) => {
    const gg = g!;
    const out: (Tensor | null)[] = [];
    if (x.requiresGrad) {
      const dxhat = gamma ? mul(gg, reshape(gamma, view)) : gg;
      const m1 = mean(dxhat, axes, true);
      const m2 = mean(mul(dxhat, xhat), axes, true);
      out.push(mul(sub(sub(dxhat, m1), mul(xhat, m2)), reshape(rstd, view)));
    } else {
      out.push(null);
    }
    if (gamma) out.push(gamma.requiresGrad ? sum(mul(gg, xhat), axes) : null);
    if (beta) out.push(beta.requiresGrad ? sum(gg, axes) : null);
    return out;
  }, [xhat, rstd]);
  // The tape pins xhat and rstd while it needs them; without a tape they go now.
  xhat.dispose();
  rstd.dispose();
  return y;
}
