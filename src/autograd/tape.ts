/**
 * The tape: a define-by-run record of the ops that made each tensor. Each node holds its inputs and a
 * backward function written with ops (so it runs on every backend), in the spirit of micrograd's readable
 * graph and tinygrad's gradient table.
 *
 * Saved tensors: a node pins its inputs and whatever the backward needs (`saved`). A pinned tensor that a
 * tidy scope disposes keeps its storage until the node is released — after `backward()` or when the
 * node's output is freed — so forward code may use `tidy` freely.
 */
import type { Tensor } from '../tensor/tensor.ts';
import { engine } from '../tensor/engine.ts';

/** Given the output gradients (null where an output got none), return one gradient per input. */
export type BackwardFn = (grads: Tensor[]) => (Tensor | null)[];

export class TapeNode {
  private released = false;
  /** Outputs this node saved for its own backward (pinned by the node itself). */
  private readonly selfSaved: Set<Tensor>;

  constructor(
    readonly op: string,
    readonly inputs: Tensor[],
    readonly outputs: Tensor[],
    readonly backward: BackwardFn,
    readonly saved: Tensor[],
  ) {
    this.selfSaved = new Set(saved.filter((t) => outputs.includes(t)));
    for (const t of inputs) t.tapeRefs++;
    for (const t of saved) t.tapeRefs++;
  }

  /**
   * An output was freed or disposed. Once every output is freed, or disposed and pinned by nothing but this
   * node, no backward pass can reach the node (it is reached only through live outputs or through consumers
   * that pin them), so it is released. Without this, an output saved for its own backward would keep itself
   * and its node alive forever when no backward pass comes.
   */
  onOutputFreed(): void {
    const unreachable = this.outputs.every(
      (o) => o.storage === null || (o.isDisposed && o.tapeRefs === (this.selfSaved.has(o) ? 1 : 0)),
    );
    if (unreachable) this.release();
  }

  /** Drop this node's pins; inputs disposed meanwhile are freed now. */
  release(): void {
    if (this.released) return;
    this.released = true;
    for (const o of this.outputs) if (o.node === this) o.node = null;
    for (const t of this.inputs) {
      t.tapeRefs--;
      engine.releaseIfUnused(t);
    }
    for (const t of this.saved) {
      t.tapeRefs--;
      engine.releaseIfUnused(t);
    }
  }
}

/**
 * Record `outputs` as made from `inputs` when autograd is on and some input needs a gradient.
 * Outputs then need a gradient too. `saved` lists extra tensors the backward reads (e.g. softmax output).
 */
export function record(
  op: string,
  inputs: Tensor[],
  outputs: Tensor[],
  backward: BackwardFn,
  saved: Tensor[] = [],
): void {
  if (!engine.gradEnabled) return;
  if (!inputs.some((t) => t.requiresGrad)) return;
  const node = new TapeNode(op, inputs, outputs, backward, saved);
  for (const o of outputs) {
    o.requiresGrad = true;
    o.node = node;
  }
}
