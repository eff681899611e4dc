/**
 * The projections Time-Series-Library's AttentionLayer and AutoCorrelationLayer wrap around an inner attention:
 * queries, keys and values each through a Linear to H heads of d_keys / d_values, and the heads' output back
 * through a Linear to d_model. TSLib's parameter names (`query_projection`, `key_projection`,
 * `value_projection`, `out_projection`, the inner module under the wrapper's own name) so that weights move to
 * and from PyTorch by name. The inner module is registered first and the projections are made in TSLib's
 * order, so the seeded draws and the state-dict order are TSLib's too.
 */
import { Module } from './module.ts';
import { Linear } from './linear.ts';
import type { Rng } from '../tensor/random.ts';

export abstract class HeadProjections extends Module {
  readonly queryProjection: Linear;
  readonly keyProjection: Linear;
  readonly valueProjection: Linear;
  readonly outProjection: Linear;

  /** `innerName`: the inner module's parameter-name prefix (`inner_attention`, `inner_correlation`). */
  constructor(rng: Rng, innerName: string, inner: Module, readonly dModel: number, readonly nHeads: number, dKeys?: number, dValues?: number) {
    super();
    const dk = dKeys ?? Math.floor(dModel / nHeads);
    const dv = dValues ?? Math.floor(dModel / nHeads);
    this.module(innerName, inner);
    this.queryProjection = this.module('query_projection', new Linear(rng, dModel, dk * nHeads));
    this.keyProjection = this.module('key_projection', new Linear(rng, dModel, dk * nHeads));
    this.valueProjection = this.module('value_projection', new Linear(rng, dModel, dv * nHeads));
    this.outProjection = this.module('out_projection', new Linear(rng, dv * nHeads, dModel));
  }
}
