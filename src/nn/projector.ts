/**
 * Non-stationary Transformer's Projector (TSLib models/Nonstationary_Transformer.py): the MLP that learns the
 * de-stationary factors τ (output 1) and Δ (output seq_len) from the raw input series and one of its
 * statistics.
 *
 * - `series_conv`: Conv1d(seq_len → 1, kernel 3, circular padding 1, no bias) run over x [B, S, E] with the S
 *   time steps as channels and the E variables as the length;
 * - concatenated with the statistic [B, 1, E] to [B, 2, E], flattened to [B, 2E];
 * - `backbone` = nn.Sequential(Linear(2E, h0), ReLU, Linear(h0, h1), ReLU, …, Linear(h_last, out, bias=False)),
 *   so its Linear layers sit at the even indices 0, 2, 4, … of the state dict.
 */
import { Module } from './module.ts';
import { Conv1d } from './conv1d.ts';
import { Linear } from './linear.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Rng } from '../tensor/random.ts';
import { relu } from '../ops/unary.ts';
import { concat } from '../ops/movement.ts';
import { reshape } from '../ops/reshape.ts';

/** nn.Sequential of Linear layers with a ReLU (no parameters, but an index) between each pair. */
export class ReluMlp extends Module {
  readonly layers: Linear[];
  constructor(layers: Linear[]) {
    super();
    this.layers = layers;
    layers.forEach((l, i) => this.module(String(2 * i), l));
  }

  forward(x: Tensor): Tensor {
    let h = x;
    this.layers.forEach((l, i) => {
      h = l.forward(h);
      if (i < this.layers.length - 1) h = relu(h);
    });
    return h;
  }
}

export class Projector extends Module {
  readonly seriesConv: Conv1d;
  readonly backbone: ReluMlp;

  constructor(rng: Rng, readonly encIn: number, readonly seqLen: number, hiddenDims: readonly number[], hiddenLayers: number, readonly outputDim: number, kernelSize = 3) {
    super();
    if (hiddenDims.length < hiddenLayers) {
      throw new Error(`Projector: p_hidden_dims [${hiddenDims.join(', ')}] has fewer than p_hidden_layers = ${hiddenLayers} entries`);
    }
    if (hiddenLayers < 1) throw new Error(`Projector: p_hidden_layers must be at least 1, got ${hiddenLayers}`);
    this.seriesConv = this.module('series_conv', new Conv1d(rng, seqLen, 1, kernelSize, { padding: 1, paddingMode: 'circular', bias: false }));
    const layers = [new Linear(rng, 2 * encIn, hiddenDims[0]!)];
    for (let i = 0; i < hiddenLayers - 1; i++) layers.push(new Linear(rng, hiddenDims[i]!, hiddenDims[i + 1]!));
    // TSLib takes hidden_dims[-1] (the list's last entry) for the output layer's input.
    layers.push(new Linear(rng, hiddenDims[hiddenDims.length - 1]!, outputDim, false));
    this.backbone = this.module('backbone', new ReluMlp(layers));
  }

  /** x [B, S, E], stats [B, 1, E] → [B, outputDim]. */
  forward(x: Tensor, stats: Tensor): Tensor {
    const b = x.shape[0]!;
    const conv = this.seriesConv.forward(x); // [B, 1, E]
    return this.backbone.forward(reshape(concat([conv, stats], 1), [b, -1]));
  }
}
