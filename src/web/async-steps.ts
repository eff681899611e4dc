/**
 * The Trainer's step, evaluation and prediction with asynchronous reads, for backends without a synchronous
 * read (webgpu): the same forward as Trainer (decoder input = label_len known steps then zeros; the scored
 * part = the last pred_len steps; features M), Adam from the Trainer, and one `await tensor.data()` per step
 * or batch instead of `dataSync`. Only for controllers that never read weights on the host (dense).
 */
import { engine, tidy } from '../tensor/engine.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { tensor } from '../ops/creation.ts';
import { sliceAxis } from '../ops/movement.ts';
import { mseLoss } from '../ops/nn.ts';
import { backward } from '../autograd/backward.ts';
import { Rng } from '../tensor/random.ts';
import type { Trainer } from '../train/trainer.ts';
import type { Batch } from '../data/forecast-dataset.ts';
import type { Split } from '../data/dataset.ts';

function forward(trainer: Trainer, b: Batch): { out: Tensor; target: Tensor } {
  const ds = trainer.data;
  const { seqLen, labelLen, predLen } = ds.opts;
  const C = ds.channels;
  const F = ds.markDim;
  const yLen = labelLen + predLen;
  const dec = new Float32Array(b.size * yLen * C);
  for (let i = 0; i < b.size; i++) dec.set(b.y.subarray(i * yLen * C, (i * yLen + labelLen) * C), i * yLen * C);
  const y = trainer.model.forward(
    tensor(b.x, [b.size, seqLen, C]), tensor(b.xMark, [b.size, seqLen, F]),
    tensor(dec, [b.size, yLen, C]), tensor(b.yMark, [b.size, yLen, F]),
  );
  return { out: sliceAxis(y, 1, y.shape[1]! - predLen, predLen), target: sliceAxis(tensor(b.y, [b.size, yLen, C]), 1, labelLen, predLen) };
}

async function readScalar(t: Tensor): Promise<number> {
  try {
    return (await t.data())[0] as number;
  } finally {
    t.dispose();
  }
}

/** One Adam step on a batch; resolves to the loss (computed before the update). */
export function asyncTrainStep(trainer: Trainer, b: Batch): Promise<number> {
  trainer.model.train();
  const loss = tidy(() => {
    const { out, target } = forward(trainer, b);
    const l = mseLoss(out, target);
    backward(l);
    trainer.adam.step();
    trainer.adam.zeroGrad();
    return l;
  });
  return readScalar(loss);
}

/** Mean per-batch MSE over the first `maxBatches` batches of a split (as Trainer.evaluate's loss). */
export async function asyncEvaluate(trainer: Trainer, split: Split, maxBatches: number): Promise<number> {
  const ds = trainer.data;
  trainer.model.eval();
  const batches = ds.batches(split, trainer.opts.batchSize, split === 'test' ? null : new Rng(trainer.opts.seed + 3 * 2 ** 32)).slice(0, maxBatches);
  let sum = 0;
  try {
    for (const ids of batches) {
      const b = ds.batch(split, ids);
      sum += await readScalar(engine.noGrad(() => tidy(() => {
        const { out, target } = forward(trainer, b);
        return mseLoss(out, target);
      })));
    }
  } finally {
    trainer.model.train();
  }
  return sum / batches.length;
}

/** Forecasts [B, pred_len, C] (normalised), eval mode. */
export async function asyncPredict(trainer: Trainer, b: Batch): Promise<Float32Array> {
  trainer.model.eval();
  try {
    const out = engine.noGrad(() => tidy(() => forward(trainer, b).out));
    try {
      return (await out.data()) as Float32Array;
    } finally {
      out.dispose();
    }
  } finally {
    trainer.model.train();
  }
}
