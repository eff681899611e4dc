/**
 * Sparse-training methods by CLI name. A method is one file implementing SparsityController plus one line
 * here.
 */
import type { Module } from '../nn/module.ts';
import type { Rng } from '../tensor/random.ts';
import { Masking } from './masking.ts';
import { allocateDensities, type DensityInit } from './density.ts';
import type { Growth, SparsityController } from './controller.ts';
import { PalsController } from './pals-controller.ts';
import { GranetController } from './granet.ts';
import { FixedDensityController } from './dst.ts';
import { StaticPruningController } from './static-pruning.ts';
import { DenseController } from './dense.ts';
import { structuredInitMask, validateStructure, type MaskStructure, type StructureKind } from './structure.ts';

export interface SparseOptions {
  method: string;
  lambda: number;
  gamma: number;
  updateFrequency: number;
  sMin: number;
  sMax: number;
  zeta: number;
  initDensity: number;
  finalDensity: number;
  /** Target density of fixed-density methods (RigL, SET) and static pruning. */
  density: number;
  growth: Growth;
  densityInit: DensityInit;
  noExpand: boolean;
  /**
   * Mask structure of every sparse method (structure.ts): 'unstructured' (default; bit-exact to the
   * reference), 'fan_in' (constant fan-in per live output neuron, SRigL-style neuron ablation) or 'block'
   * (B×B blocks). Optional so that callers built before it keep compiling; absent means the default.
   */
  structure?: StructureKind;
  /** B of the 'block' structure (default 4). */
  blockSize?: number;
  /** γ_sal of 'fan_in' neuron ablation, in [0, 1] (default 0.3, SRigL's; 0 turns ablation off). */
  fanInAblation?: number;
}

export const DEFAULT_SPARSE: SparseOptions = {
  method: 'dense', lambda: 1.1, gamma: 1.1, updateFrequency: 20, sMin: 0.2, sMax: 0.9, zeta: 0.5,
  initDensity: 1, finalDensity: 0.1, density: 0.2, growth: 'gradient', densityInit: 'erk', noExpand: false,
  structure: 'unstructured', blockSize: 4, fanInAblation: 0.3,
};

/** The validated mask structure of a set of options (defaults filled in). */
export function structureOf(o: SparseOptions): MaskStructure {
  const s: MaskStructure = { kind: o.structure ?? 'unstructured', blockSize: o.blockSize ?? 4, ablation: o.fanInAblation ?? 0.3 };
  validateStructure(s);
  return s;
}

/** A random mask with round(density·size) ones, from the seeded generator. */
function randomMask(rng: Rng, size: number, density: number): Uint8Array {
  const order = rng.permutation(size);
  const m = new Uint8Array(size);
  const k = Math.round(density * size);
  for (let i = 0; i < k; i++) m[order[i]!] = 1;
  return m;
}

/**
 * Masks at `density` (per layer by ERK or uniform). Unstructured: the reference's random masks; a structure
 * draws masks that already satisfy its invariant, at the nearest count it can realise per layer.
 */
function maskingAt(model: Module, rng: Rng, density: number, kind: DensityInit, s: MaskStructure): Masking {
  const layers = model.namedParameters().filter(([, p]) => p.rank >= 2).map(([name, p]) => ({ name, shape: p.shape }));
  const densities = allocateDensities(layers, density, kind);
  const shapes = new Map(layers.map((l) => [l.name, l.shape]));
  const m = new Masking(model, densities, s.kind === 'unstructured'
    ? (_, size, d) => randomMask(rng, size, d)
    : (name, _, d) => structuredInitMask(s, rng, shapes.get(name)!, d));
  m.structure = s;
  if (density < 1) m.apply();
  return m;
}

function structuredMasking(model: Module, s: MaskStructure): Masking {
  const m = new Masking(model);
  m.structure = s;
  return m;
}

export const METHODS: Record<string, (model: Module, o: SparseOptions, rng: Rng) => SparsityController> = {
  dense: (model) => new DenseController(new Masking(model)),
  pals: (model, o, rng) => new PalsController(maskingAt(model, rng, o.initDensity, o.densityInit, structureOf(o)), {
    lambda: o.lambda, gamma: o.gamma, updateFrequency: o.updateFrequency, sMin: o.sMin, sMax: o.sMax, zeta: o.zeta,
    initDensity: o.initDensity, noExpand: o.noExpand, growth: o.growth,
  }, rng),
  granet: (model, o, rng) => new GranetController(maskingAt(model, rng, o.initDensity, o.densityInit, structureOf(o)), {
    initDensity: o.initDensity, finalDensity: o.finalDensity, updateFrequency: o.updateFrequency, zeta: o.zeta, growth: o.growth, initPruneEpoch: 0,
  }, rng),
  rigl: (model, o, rng) => new FixedDensityController('rigl', maskingAt(model, rng, o.density, o.densityInit, structureOf(o)), { updateFrequency: o.updateFrequency, zeta: o.zeta, growth: 'gradient' }, rng),
  set: (model, o, rng) => new FixedDensityController('set', maskingAt(model, rng, o.density, o.densityInit, structureOf(o)), { updateFrequency: o.updateFrequency, zeta: o.zeta, growth: 'random' }, rng),
  static: (model, o) => new StaticPruningController(structuredMasking(model, structureOf(o)), o.density),
};

export function createController(model: Module, o: SparseOptions, rng: Rng): SparsityController {
  const make = METHODS[o.method];
  if (!make) throw new Error(`sparse: unknown --method '${o.method}' (available: ${Object.keys(METHODS).join(', ')})`);
  return make(model, o, rng);
}
