/**
 * Module: a tree of named parameters and buffers with train/eval mode, in PyTorch's shape so that
 * state-dict keys (`encoder.attn_layers.0.attention.query_projection.weight`, …) match Time-Series-Library
 * checkpoints name for name. Registration order is state-dict order, as in PyTorch.
 */
import type { Tensor } from '../tensor/tensor.ts';
import { engine } from '../tensor/engine.ts';
import { assignInPlace } from '../tensor/assign.ts';
import { shapeToString, sameShape } from '../tensor/shape.ts';

export abstract class Module {
  training = true;
  private readonly ownParams = new Map<string, Tensor>();
  private readonly ownBuffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  /** Register a trainable tensor; the module owns it (kept out of tidy scopes). */
  protected param(name: string, t: Tensor): Tensor {
    engine.keep(t);
    t.requiresGrad = true;
    this.ownParams.set(name, t);
    return t;
  }

  /** Register a non-trainable state tensor (e.g. BatchNorm running statistics). */
  protected buffer(name: string, t: Tensor): Tensor {
    engine.keep(t);
    this.ownBuffers.set(name, t);
    return t;
  }

  protected module<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** Replace a buffer's tensor (running statistics update); the old one is disposed. */
  protected setBuffer(name: string, t: Tensor): void {
    const old = this.ownBuffers.get(name);
    this.ownBuffers.set(name, engine.keep(t));
    if (old && old !== t) old.dispose();
  }

  protected getBuffer(name: string): Tensor {
    const t = this.ownBuffers.get(name);
    if (!t) throw new Error(`${this.constructor.name}: no buffer '${name}'`);
    return t;
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, p] of this.ownParams) {
      p.name = prefix + n;
      out.push([prefix + n, p]);
    }
    for (const [n, c] of this.children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, b] of this.ownBuffers) out.push([prefix + n, b]);
    for (const [n, c] of this.children) out.push(...c.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /**
   * Parameters and buffers keyed by their state-dict names, in PyTorch's order: each module's own
   * parameters, then its own buffers, then its children's, depth first.
   */
  stateDict(prefix = '', out: Map<string, Tensor> = new Map()): Map<string, Tensor> {
    for (const [n, p] of this.ownParams) out.set(prefix + n, p);
    for (const [n, b] of this.ownBuffers) out.set(prefix + n, b);
    for (const [n, c] of this.children) c.stateDict(`${prefix}${n}.`, out);
    return out;
  }

  /** Copy values into this module's tensors; every key must exist with the same shape. */
  loadStateDict(values: Map<string, Float32Array>, strict = true): void {
    const own = this.stateDict();
    if (strict) {
      const missing = [...own.keys()].filter((k) => !values.has(k));
      const unexpected = [...values.keys()].filter((k) => !own.has(k));
      if (missing.length || unexpected.length) {
        throw new Error(`loadStateDict: missing keys [${missing.join(', ')}], unexpected keys [${unexpected.join(', ')}]`);
      }
    }
    for (const [k, t] of own) {
      const v = values.get(k);
      if (!v) continue;
      if (v.length !== t.size) {
        throw new Error(`loadStateDict: '${k}' has ${v.length} values; the module's tensor has shape ${shapeToString(t.shape)}`);
      }
      assignInPlace(t, engine.makeTensor(t.backend.upload(v), t.shape, t.dtype, t.backend));
    }
  }

  train(mode = true): this {
    this.training = mode;
    for (const c of this.children.values()) c.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  dispose(): void {
    for (const p of this.ownParams.values()) p.dispose();
    for (const b of this.ownBuffers.values()) b.dispose();
    for (const c of this.children.values()) c.dispose();
  }

  /** Shape check helper for forward passes. */
  protected expectLastDim(op: string, x: Tensor, d: number): void {
    if (x.shape[x.rank - 1] !== d) {
      throw new Error(`${op}: input ${shapeToString(x.shape)} must end in ${d}`);
    }
  }
}

/** An ordered list of modules named 0, 1, … (nn.ModuleList). */
export class ModuleList<M extends Module> extends Module {
  readonly items: M[];
  constructor(items: M[]) {
    super();
    this.items = items;
    items.forEach((m, i) => this.module(String(i), m));
  }
}

export function sameShapes(a: readonly number[], b: readonly number[]): boolean {
  return sameShape(a, b);
}
