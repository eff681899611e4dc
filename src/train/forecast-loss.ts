/**
 * One batch through a forecaster as TSLib's training loop feeds it: the decoder input (label_len known steps,
 * then pred_len zeros), the scored part of the output (the last pred_len steps; features MS: the target channel
 * only) and the MSE loss. The Trainer's steps and evaluations use it, and so does `sparsecast eval` to time a
 * training pass of a loaded run without building a Trainer (no optimizer, controller or training data set).
 */
import type { Tensor } from '../tensor/tensor.ts';
import { engine, tidy } from '../tensor/engine.ts';
import { tensor } from '../ops/creation.ts';
import { sliceAxis } from '../ops/movement.ts';
import { mseLoss } from '../ops/nn.ts';
import { backward } from '../autograd/backward.ts';
import type { Forecaster } from '../models/forecaster.ts';
import { decoderInput, type Batch, type Features, type ForecastDataset } from '../data/forecast-dataset.ts';

/** The window sizes of a batch and which channels are scored. */
export interface BatchShape {
  seqLen: number;
  labelLen: number;
  predLen: number;
  channels: number;
  /** Time-feature columns per step. */
  markDim: number;
  features: Features;
}

/** A data set's window sizes and scored channels. */
export function batchShape(ds: ForecastDataset): BatchShape {
  const { seqLen, labelLen, predLen, features } = ds.opts;
  return { seqLen, labelLen, predLen, features, channels: ds.channels, markDim: ds.markDim };
}

/** TSLib's f_dim: MS scores the last (target) channel only, M and S every channel. */
export function scoredFrom(s: BatchShape): number {
  return s.features === 'MS' ? s.channels - 1 : 0;
}

/** The scored part of [B, label + pred, C]: the last pred_len steps, channels from f_dim on. */
function scored(t: Tensor, s: BatchShape): Tensor {
  const p = sliceAxis(t, 1, t.shape[1]! - s.predLen, s.predLen);
  const f = scoredFrom(s);
  return f === 0 ? p : sliceAxis(p, 2, f, s.channels - f);
}

/** The model's scored output and the matching target for one batch (inside the caller's tidy). */
export function forwardBatch(model: Forecaster, b: Batch, s: BatchShape): { out: Tensor; target: Tensor } {
  const { seqLen, labelLen, predLen, channels: C, markDim: F } = s;
  const yLen = labelLen + predLen;
  const out = model.forward(
    tensor(b.x, [b.size, seqLen, C]), tensor(b.xMark, [b.size, seqLen, F]),
    tensor(decoderInput(b, labelLen, predLen, C), [b.size, yLen, C]), tensor(b.yMark, [b.size, yLen, F]),
  );
  return { out: scored(out, s), target: scored(tensor(b.y, [b.size, yLen, C]), s) };
}

/** The training loss of one batch (MSE over the scored part), kept out of the caller's tidy. */
export function batchLoss(model: Forecaster, b: Batch, s: BatchShape): Tensor {
  return tidy(() => {
    const { out, target } = forwardBatch(model, b, s);
    return engine.keep(mseLoss(out, target));
  });
}

/**
 * Forward, loss and backward of one batch in the model's current mode, then every parameter's gradient freed:
 * what a training step costs apart from the optimizer. Dropout (in train mode) draws from the model's generator.
 */
export function gradientsDropped(model: Forecaster, b: Batch, s: BatchShape): void {
  const loss = batchLoss(model, b, s);
  try {
    backward(loss);
  } finally {
    for (const p of model.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
    loss.dispose();
  }
}
