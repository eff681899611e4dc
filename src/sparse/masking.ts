/**
 * Masks over a model's weights, as the reference `Masking` class keeps them: every parameter with ndim ≥ 2
 * has a 0/1 mask; after each optimizer step the weight is multiplied by it (so forward computes W ⊙ M with
 * inactive weights exactly 0), gradients stay dense (growth needs them), and Adam's moments stay dense.
 * Masks live on the host (the topology logic reads them) and on the backend as f32 (for the multiply).
 */
import type { Tensor } from '../tensor/tensor.ts';
import { engine, tidy } from '../tensor/engine.ts';
import { tensor } from '../ops/creation.ts';
import { mul } from '../ops/binary.ts';
import { assignInPlace } from '../tensor/assign.ts';
import type { Module } from '../nn/module.ts';
import type { Storage } from '../backend/kernels.ts';
import { countActive } from './criteria.ts';
import { structureViolation, UNSTRUCTURED, type MaskStructure } from './structure.ts';
import { assertBinaryMask } from '../io/value-checks.ts';

export interface MaskedLayer {
  name: string;
  param: Tensor;
  mask: Uint8Array;
  /** f32 copy of the mask on the parameter's backend. */
  device: Tensor;
  active: number;
}

/** Told when a layer's mask changes ('mask', after setMask) or its masked values do ('values', after apply). */
export type MaskListener = (l: MaskedLayer, what: 'mask' | 'values') => void;

export class Masking {
  readonly layers: MaskedLayer[] = [];
  /** Observers of mask and value changes (sparse execution rebuilds / refreshes its CSR weights). */
  readonly listeners = new Set<MaskListener>();
  /**
   * Whether this step's backward must produce dense weight gradients (gradient growth reads them on topology
   * updates). Only sparse execution with `weightGrad: 'sparse-between-updates'` reads it; the trainer sets it
   * per step from the controller when the controller can tell (true otherwise).
   */
  denseGradients = true;
  /** All trainable parameters, masked or not (the reference's dense_params). */
  readonly denseParams: number;
  readonly maskedParams: number;
  /**
   * Where topology updates put their counts (structure.ts). Unstructured — the reference's element-wise
   * rules — unless the method was built with another structure; initial masks are the caller's to shape.
   */
  structure: MaskStructure = UNSTRUCTURED;

  constructor(model: Module, densities?: Map<string, number>, init?: (name: string, size: number, density: number) => Uint8Array) {
    let all = 0;
    let masked = 0;
    for (const [name, p] of model.namedParameters()) {
      all += p.size;
      if (p.rank < 2) continue;
      masked += p.size;
      const density = densities?.get(name) ?? 1;
      const mask = density >= 1 || !init ? new Uint8Array(p.size).fill(1) : init(name, p.size, density);
      this.layers.push({ name, param: p, mask, device: engine.keep(tensor(Float32Array.from(mask), p.shape, { backend: p.backend.name })), active: countActive(mask) });
    }
    this.denseParams = all;
    this.maskedParams = masked;
  }

  /** Σ nnz of the masks. */
  nnz(): number {
    return this.layers.reduce((a, l) => a + l.active, 0);
  }

  /**
   * The reference's sparsity_level: 1 − Σnnz(masks) / all trainable parameters. Unmasked biases and norms
   * sit in the denominator only, so a dense model already shows their share (≈ 0.018 for the small preset).
   */
  sparsity(): number {
    return 1 - this.nnz() / this.denseParams;
  }

  /** Sparsity over the masked parameters only. */
  maskedSparsity(): number {
    return 1 - this.nnz() / this.maskedParams;
  }

  /**
   * Each masked weight's density by its storage, 1 for any other tensor: the FLOP counter's view of the
   * model (src/tensor/flops.ts scales a product by the density of the weight it reads).
   */
  flopDensity(): (weight: Storage) => number {
    const density = new Map<Storage, number>(this.layers.map((l) => [l.param.storage!, l.active / l.param.size] as const));
    return (w) => density.get(w) ?? 1;
  }

  layerDensity(name: string): number {
    const l = this.layers.find((x) => x.name === name);
    return l ? l.active / l.param.size : 1;
  }

  /** W ← W ⊙ M for every masked weight. */
  apply(): void {
    engine.noGrad(() => {
      for (const l of this.layers) assignInPlace(l.param, tidy(() => engine.keep(mul(l.param, l.device))));
    });
    for (const f of this.listeners) for (const l of this.layers) f(l, 'values');
  }

  /** Replace a layer's mask (host and device). */
  setMask(l: MaskedLayer, mask: Uint8Array): void {
    l.mask = mask;
    l.active = countActive(mask);
    const next = tensor(Float32Array.from(mask), l.param.shape, { backend: l.param.backend.name });
    assignInPlace(l.device, next);
    for (const f of this.listeners) f(l, 'mask');
  }

  /** Host masks by name (checkpoints). */
  state(): Record<string, Uint8Array> {
    return Object.fromEntries(this.layers.map((l) => [l.name, l.mask]));
  }

  load(masks: Map<string, Uint8Array>): void {
    // Every mask is checked before any is set, so a refused checkpoint leaves the masks as they were.
    for (const l of this.layers) {
      const m = masks.get(l.name);
      if (!m) throw new Error(`masks: checkpoint has no mask for ${l.name}`);
      if (m.length !== l.param.size) throw new Error(`masks: mask for ${l.name} has ${m.length} entries, the weight ${l.param.size}`);
      // A byte other than 0/1 would scale the weight and make nnz / sparsity accounting lie.
      assertBinaryMask('masks', l.name, m);
      // A run resumed under another structure would start from masks its updates cannot keep in shape.
      const bad = structureViolation(this.structure, l.param.shape, m);
      if (bad) throw new Error(`masks: checkpoint mask for ${l.name} is not ${this.structure.kind} (${bad}); resume with the run's --sparsity_structure`);
    }
    for (const l of this.layers) this.setMask(l, masks.get(l.name)!.slice());
  }

  dispose(): void {
    for (const l of this.layers) l.device.dispose();
  }
}
