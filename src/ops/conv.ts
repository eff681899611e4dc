/**
 * 1-D convolution matching torch.nn.Conv1d (groups = 1): x [N, Cin, L], w [Cout, Cin, K], bias [Cout].
 * Lout = floor((L + 2·padding − dilation·(K − 1) − 1) / stride) + 1.
 *
 * paddingMode 'zeros' passes the padding to the kernel; 'circular' and 'replicate' first `pad` x along L
 * by `padding` on both sides (as PyTorch does) and then convolve without padding, so their gradient flows
 * through pad's adjoint. The backward uses the contract's conv1dBackwardInput / conv1dBackwardWeight.
 */
import { record } from '../autograd/tape.ts';
import { countFlops } from '../tensor/flops.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { shapeToString } from '../tensor/shape.ts';
import { checkDtype, checkInt, checkRank, describe, storages, wrap } from './util.ts';
import { add } from './binary.ts';
import { reshape } from './reshape.ts';
import { pad } from './movement.ts';

export interface Conv1dOptions {
  stride?: number;
  dilation?: number;
  /** Symmetric padding of L, or [left, right]. Default 0. */
  padding?: number | readonly [number, number];
  /** torch's padding_mode: 'zeros' (default), 'circular' or 'replicate'. */
  paddingMode?: 'zeros' | 'circular' | 'replicate';
}

export function conv1d(x: Tensor, w: Tensor, bias?: Tensor | null, opts: Conv1dOptions = {}): Tensor {
  const op = 'conv1d';
  const stride = opts.stride ?? 1;
  const dilation = opts.dilation ?? 1;
  const padding = opts.padding ?? 0;
  const mode = opts.paddingMode ?? 'zeros';
  checkInt(op, 'stride', stride, 1);
  checkInt(op, 'dilation', dilation, 1);
  const [pl, pr] = typeof padding === 'number' ? [padding, padding] : [padding[0], padding[1]];
  checkInt(op, 'padding', pl, 0);
  checkInt(op, 'padding', pr, 0);
  if (mode !== 'zeros' && mode !== 'circular' && mode !== 'replicate') {
    throw new Error(`${op}: unknown paddingMode '${String(mode)}' (expected zeros, circular or replicate)`);
  }
  checkRank(op, x, 3, 'input x');
  checkRank(op, w, 3, 'weight');
  checkDtype(op, x, ['f32'], 'input x');
  checkDtype(op, w, ['f32'], 'weight');
  const [N, Cin, L] = x.shape as [number, number, number];
  const [Cout, wCin, K] = w.shape as [number, number, number];
  if (wCin !== Cin) {
    throw new Error(`${op}: input ${shapeToString(x.shape)} has ${Cin} channels but weight ${shapeToString(w.shape)} expects ${wCin}`);
  }
  if (bias) {
    checkDtype(op, bias, ['f32'], 'bias');
    if (bias.rank !== 1 || bias.shape[0] !== Cout) {
      throw new Error(`${op}: bias ${describe(bias)} must have shape [${Cout}] for weight ${shapeToString(w.shape)}`);
    }
  }
  if (mode !== 'zeros' && (pl > 0 || pr > 0)) {
    if (L === 0) throw new Error(`${op}: cannot ${mode}-pad the empty input ${shapeToString(x.shape)}`);
    const xp = pad(x, [[pl, pr]], mode === 'circular' ? 'circular' : 'replicate');
    const out = conv1d(xp, w, bias, { stride, dilation, padding: 0 });
    xp.dispose();
    return out;
  }
  const span = dilation * (K - 1) + 1;
  if (K === 0 || L + pl + pr < span) {
    throw new Error(
      `${op}: input ${shapeToString(x.shape)} with padding [${pl}, ${pr}] is shorter than the dilated kernel ` +
        `(weight ${shapeToString(w.shape)}, dilation ${dilation}: span ${span})`,
    );
  }
  const Lout = Math.floor((L + pl + pr - span) / stride) + 1;
  const { backend, s } = storages(op, x, w);
  const args = {
    x: s[0]!, xShape: [N, Cin, L], w: s[1]!, wShape: [Cout, Cin, K], stride, dilation, padLeft: pl, padRight: pr,
  };
  countFlops(op, 2 * N * Cout * Lout * Cin * K, w);
  const y = wrap(backend.kernels.conv1d(args), [N, Cout, Lout], backend);
  record(op, [x, w], [y], ([g]) => {
    const gs = g!.use('conv1d backward');
    const dyShape = [N, Cout, Lout];
    const dx = x.requiresGrad
      ? wrap(backend.kernels.conv1dBackwardInput(gs, dyShape, {
          xShape: [N, Cin, L], w: w.use('conv1d backward'), wShape: [Cout, Cin, K], stride, dilation, padLeft: pl, padRight: pr,
        }), [N, Cin, L], backend)
      : null;
    const dw = w.requiresGrad
      ? wrap(backend.kernels.conv1dBackwardWeight(gs, dyShape, {
          x: x.use('conv1d backward'), xShape: [N, Cin, L], wShape: [Cout, Cin, K], stride, dilation, padLeft: pl, padRight: pr,
        }), [Cout, Cin, K], backend)
      : null;
    return [dx, dw];
  });
  if (!bias) return y;
  const out = add(y, reshape(bias, [1, Cout, 1]));
  y.dispose();
  return out;
}
