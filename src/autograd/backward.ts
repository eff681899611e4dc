/**
 * Reverse-mode differentiation over the tape. `backward(loss)` visits the graph that made `loss` in reverse
 * topological order, calls each node's backward (written with ops, so it runs on the tensors' backend),
 * sums gradients that meet, and accumulates into `.grad` of every leaf that requires a gradient.
 * The graph is released afterwards, which frees the tensors it pinned.
 */
import type { Tensor } from '../tensor/tensor.ts';
import type { TapeNode } from './tape.ts';
import { engine } from '../tensor/engine.ts';
import { add } from '../ops/binary.ts';
import { onesLike } from '../ops/creation.ts';
import { shapeToString, sameShape } from '../tensor/shape.ts';

export interface BackwardOptions {
  /** Gradient of the output; defaults to ones (loss must then be a scalar). */
  grad?: Tensor;
  /** Keep the graph for another backward pass (default false: release it). */
  retainGraph?: boolean;
}

/**
 * Tensors whose graph an earlier backward() released. Release unlinks them from their nodes, after which such
 * a tensor looks like a leaf: a second backward() would seed its own .grad and reach no parameter, silently.
 * Weak, so the record dies with the tensor.
 */
const released = new WeakSet<Tensor>();

/** Nodes reachable from `root`, ordered so every node comes after all nodes that consume its outputs. */
function reverseTopo(root: TapeNode): TapeNode[] {
  const order: TapeNode[] = [];
  const seen = new Set<TapeNode>();
  // Iterative DFS (graphs of deep models overflow recursion).
  const stack: [TapeNode, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [node, i] = top;
    if (i < node.inputs.length) {
      top[1]++;
      const child = node.inputs[i]!.node;
      if (child && !seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order.reverse();
}

export function backward(output: Tensor, opts: BackwardOptions = {}): void {
  output.use('backward');
  if (!output.requiresGrad) {
    throw new Error(`backward: output ${shapeToString(output.shape)} does not require a gradient (no parameter reached it, or it was computed under noGrad)`);
  }
  if (!opts.grad && output.size !== 1) {
    throw new Error(`backward: output has shape ${shapeToString(output.shape)}; pass { grad } for a non-scalar output`);
  }
  if (opts.grad && !sameShape(opts.grad.shape, output.shape)) {
    throw new Error(`backward: grad shape ${shapeToString(opts.grad.shape)} does not match output ${shapeToString(output.shape)}`);
  }
  const root = output.node;
  if (!root && released.has(output)) {
    throw new Error(
      `backward: this graph was already used by an earlier backward(); its nodes were released, so a second pass would reach no parameter. ` +
        'Recompute the forward pass, or pass { retainGraph: true } to the first backward() to run it again.',
    );
  }
  if (!root) {
    // A leaf: its gradient is the seed itself (a copy: the caller owns opts.grad).
    accumulate(output, opts.grad ?? null, new Set(opts.grad ? [opts.grad] : []));
    return;
  }
  const order = reverseTopo(root);
  engine.noGrad(() =>
    engine.runBackward(() => engine.tidy(() => {
      const grads = new Map<Tensor, Tensor>();
      grads.set(output, opts.grad ?? onesLike(output));
      for (const node of order) {
        const outGrads = node.outputs.map((o) => grads.get(o) ?? null);
        if (outGrads.every((g) => g === null)) continue;
        const filled = node.outputs.map((o, i) => outGrads[i] ?? zerosFor(o));
        const inGrads = node.backward(filled);
        node.inputs.forEach((input, i) => {
          const g = inGrads[i];
          if (!g || !input.requiresGrad) return;
          if (!sameShape(g.shape, input.shape)) {
            throw new Error(`backward: op '${node.op}' returned a gradient of shape ${shapeToString(g.shape)} for an input of shape ${shapeToString(input.shape)}`);
          }
          const prev = grads.get(input);
          grads.set(input, prev ? add(prev, g) : g);
        });
      }
      // The caller owns opts.grad: a leaf that would receive it as is gets a copy.
      const handed = new Set<Tensor>(opts.grad ? [opts.grad] : []);
      for (const [t, g] of grads) if (t.node === null && t.requiresGrad && t !== output) accumulate(t, g, handed);
    })),
  );
  if (!opts.retainGraph) {
    for (const node of order) {
      for (const o of node.outputs) released.add(o);
      node.release();
    }
  }
}

function zerosFor(t: Tensor): Tensor {
  return engine.makeTensor(t.backend.kernels.fill(t.size, t.dtype, 0), t.shape, t.dtype, t.backend);
}

/** Add `g` into leaf.grad (kept out of tidy scopes: the caller or optimizer owns it). */
function accumulate(leaf: Tensor, g: Tensor | null, handed: Set<Tensor> = new Set()): void {
  if (!leaf.requiresGrad) return;
  let next: Tensor;
  if (leaf.grad) {
    next = add(leaf.grad, g ?? onesLike(leaf));
    leaf.grad.dispose();
  } else if (g === null) {
    next = onesLike(leaf);
  } else {
    // One gradient tensor may reach several leaves (e.g. both inputs of an add): each leaf owns a copy.
    next = handed.has(g) ? copyOf(g) : g;
  }
  handed.add(next);
  leaf.grad = engine.keep(next);
}

function copyOf(t: Tensor): Tensor {
  return engine.makeTensor(t.backend.kernels.cast(t.use('backward'), t.dtype), t.shape, t.dtype, t.backend);
}
