/**
 * One Transformer encoder block training step, as Time-Series-Library's EncoderLayer (post-norm, GELU FFN,
 * 8-head full attention): forward + backward + Adam. Batch 32, seq 96, d_model 512, d_ff 2048, dropout 0,
 * MSE loss against a fixed target. sparsecast and tfjs-backend-wasm (single-threaded SIMD) run the same
 * arithmetic in the same process.
 *
 * Work: ≈ 60 GFLOP per step (weights: 3 · 2·B·L·(4D² + 2·D·F); attention: 3 · 4·B·L²·D).
 */
import { engine, tidy } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import type { Tensor } from '../src/tensor/tensor.ts';
import * as op from '../src/ops/index.ts';
import { backward } from '../src/autograd/backward.ts';
import { Adam } from '../src/train/adam.ts';
import { emit, medianMs } from './stats.ts';
import { loadTfjsWasm } from './tfjs-peer.ts';

export interface BlockShape {
  batch: number;
  seq: number;
  dModel: number;
  heads: number;
  dFf: number;
}

export const FULL_BLOCK: BlockShape = { batch: 32, seq: 96, dModel: 512, heads: 8, dFf: 2048 };

export function blockFlops(s: BlockShape): number {
  const rows = s.batch * s.seq;
  const weights = 2 * rows * (4 * s.dModel * s.dModel + 2 * s.dModel * s.dFf);
  const attention = 4 * s.batch * s.seq * s.seq * s.dModel;
  return 3 * (weights + attention);
}

/** Parameter shapes in TSLib naming (Linear weight [out, in]; the FFN convs with k = 1 as Linear). */
function paramShapes(s: BlockShape): Record<string, number[]> {
  const D = s.dModel;
  const F = s.dFf;
  return {
    'attention.query_projection.weight': [D, D], 'attention.query_projection.bias': [D],
    'attention.key_projection.weight': [D, D], 'attention.key_projection.bias': [D],
    'attention.value_projection.weight': [D, D], 'attention.value_projection.bias': [D],
    'attention.out_projection.weight': [D, D], 'attention.out_projection.bias': [D],
    'conv1.weight': [F, D], 'conv1.bias': [F],
    'conv2.weight': [D, F], 'conv2.bias': [D],
    'norm1.weight': [D], 'norm1.bias': [D],
    'norm2.weight': [D], 'norm2.bias': [D],
  };
}

/** Deterministic host-side initial values shared by both implementations. */
function initialValues(s: BlockShape): Record<string, Float32Array> {
  const rng = new Rng(2020);
  const out: Record<string, Float32Array> = {};
  for (const [name, shape] of Object.entries(paramShapes(s))) {
    const n = shape.reduce((a, b) => a * b, 1);
    if (name.startsWith('norm') && name.endsWith('weight')) out[name] = new Float32Array(n).fill(1);
    else if (name.endsWith('bias')) out[name] = new Float32Array(n);
    else out[name] = rng.normal(n).map((v) => v * 0.02);
  }
  return out;
}

export function sparsecastStep(s: BlockShape, backendName: string) {
  const shapes = paramShapes(s);
  const init = initialValues(s);
  const P: Record<string, Tensor> = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const t = engine.keep(op.tensor(init[name]!, shape, { backend: backendName }));
    t.requiresGrad = true;
    t.name = name;
    P[name] = t;
  }
  const rng = new Rng(7);
  const x = engine.keep(op.tensor(rng.normal(s.batch * s.seq * s.dModel), [s.batch, s.seq, s.dModel], { backend: backendName }));
  const target = engine.keep(op.tensor(rng.normal(s.batch * s.seq * s.dModel), [s.batch, s.seq, s.dModel], { backend: backendName }));
  const adam = new Adam(Object.values(P), { lr: 1e-4 });
  const E = s.dModel / s.heads;

  const heads = (t: Tensor) => op.permute(op.reshape(t, [s.batch, s.seq, s.heads, E]), [0, 2, 1, 3]);
  const forward = (): Tensor => {
    const q = heads(op.linear(x, P['attention.query_projection.weight']!, P['attention.query_projection.bias']));
    const k = heads(op.linear(x, P['attention.key_projection.weight']!, P['attention.key_projection.bias']));
    const v = heads(op.linear(x, P['attention.value_projection.weight']!, P['attention.value_projection.bias']));
    const scores = op.mul(op.matmul(q, k, { transB: true }), 1 / Math.sqrt(E));
    const attn = op.matmul(op.softmax(scores), v);
    const merged = op.reshape(op.permute(attn, [0, 2, 1, 3]), [s.batch, s.seq, s.dModel]);
    const o = op.linear(merged, P['attention.out_projection.weight']!, P['attention.out_projection.bias']);
    const x1 = op.layerNorm(op.add(x, o), P['norm1.weight']!, P['norm1.bias']!);
    const y = op.linear(op.gelu(op.linear(x1, P['conv1.weight']!, P['conv1.bias'])), P['conv2.weight']!, P['conv2.bias']);
    const out = op.layerNorm(op.add(x1, y), P['norm2.weight']!, P['norm2.bias']!);
    return op.mseLoss(out, target);
  };
  const step = async () => {
    const loss = tidy(() => {
      const l = forward();
      backward(l);
      adam.step();
      adam.zeroGrad();
      return engine.keep(l);
    });
    const v = (await loss.data())[0]!;
    loss.dispose();
    return v;
  };
  const dispose = () => {
    adam.dispose();
    for (const t of [...Object.values(P), x, target]) t.dispose();
  };
  return { step, dispose };
}

async function tfjsStep(s: BlockShape) {
  const { tf } = await loadTfjsWasm();
  const init = initialValues(s);
  const shapes = paramShapes(s);
  const V: Record<string, import('@tensorflow/tfjs-core').Variable> = {};
  for (const [name, shape] of Object.entries(shapes)) V[name] = tf.variable(tf.tensor(init[name]!, shape), true, name);
  const rng = new Rng(7);
  const x = tf.tensor(rng.normal(s.batch * s.seq * s.dModel), [s.batch, s.seq, s.dModel]);
  const target = tf.tensor(rng.normal(s.batch * s.seq * s.dModel), [s.batch, s.seq, s.dModel]);
  const opt = tf.train.adam(1e-4);
  const E = s.dModel / s.heads;
  type T = import('@tensorflow/tfjs-core').Tensor;
  // tfjs-backend-wasm's BatchMatMul is 7–100× slower with a transpose flag set than without (measured:
  // 3072×512×2048 nn 0.25 s, nt 6.8 s, tn 26.7 s), and its registered gradients use the flags. Its best
  // setup is explicit transposes: every product goes through `mm`, whose gradient has no flags either.
  const swapLast = (t: T) => {
    const perm = t.shape.map((_, i) => i);
    [perm[perm.length - 1], perm[perm.length - 2]] = [perm[perm.length - 2]!, perm[perm.length - 1]!];
    return tf.transpose(t, perm);
  };
  const mm = tf.customGrad(((a: T, b: T, save: (ts: T[]) => void) => {
    save([a, b]);
    return {
      value: tf.matMul(a, b),
      gradFunc: (dy: T, saved: T[]) => [tf.matMul(dy, swapLast(saved[1]!)), tf.matMul(swapLast(saved[0]!), dy)],
    };
  }) as never) as unknown as (a: T, b: T) => T;
  const linear = (t: T, w: string, b: string) => {
    const flat = tf.reshape(t, [-1, t.shape[t.shape.length - 1]!]);
    const y = tf.add(mm(flat, tf.transpose(V[w]!)), V[b]!);
    return tf.reshape(y, [...t.shape.slice(0, -1), -1]);
  };
  const layerNorm = (t: T, g: string, b: string) => {
    const { mean, variance } = tf.moments(t, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(t, mean), tf.rsqrt(tf.add(variance, 1e-5))), V[g]!), V[b]!);
  };
  const gelu = (t: T) => tf.mul(tf.mul(t, 0.5), tf.add(1, tf.erf(tf.mul(t, Math.SQRT1_2))));
  const heads = (t: T) => tf.transpose(tf.reshape(t, [s.batch, s.seq, s.heads, E]), [0, 2, 1, 3]);
  const forward = () => {
    const q = heads(linear(x, 'attention.query_projection.weight', 'attention.query_projection.bias'));
    const k = heads(linear(x, 'attention.key_projection.weight', 'attention.key_projection.bias'));
    const v = heads(linear(x, 'attention.value_projection.weight', 'attention.value_projection.bias'));
    const scores = tf.mul(mm(q, swapLast(k)), 1 / Math.sqrt(E));
    const attn = mm(tf.softmax(scores), v);
    const merged = tf.reshape(tf.transpose(attn, [0, 2, 1, 3]), [s.batch, s.seq, s.dModel]);
    const o = linear(merged, 'attention.out_projection.weight', 'attention.out_projection.bias');
    const x1 = layerNorm(tf.add(x, o), 'norm1.weight', 'norm1.bias');
    const y = linear(gelu(linear(x1, 'conv1.weight', 'conv1.bias')), 'conv2.weight', 'conv2.bias');
    const out = layerNorm(tf.add(x1, y), 'norm2.weight', 'norm2.bias');
    return tf.mean(tf.square(tf.sub(out, target))) as import('@tensorflow/tfjs-core').Scalar;
  };
  const step = async () => {
    const loss = opt.minimize(forward, true)!;
    const v = (await loss.data())[0]!;
    loss.dispose();
    return v;
  };
  const dispose = () => {
    opt.dispose();
    for (const t of [...Object.values(V), x, target]) t.dispose();
  };
  return { step, dispose };
}

export async function benchBlock(opts: { json: boolean; runs?: number; backend?: string; shape?: BlockShape; impls?: string[] }): Promise<void> {
  const s = opts.shape ?? FULL_BLOCK;
  const flops = blockFlops(s);
  const impls = opts.impls ?? ['sparsecast-wasm', 'tfjs-backend-wasm'];
  for (const impl of impls) {
    let runner: { step: () => Promise<number>; dispose: () => void };
    if (impl.startsWith('sparsecast-')) {
      const backendName = impl === 'sparsecast-wasm-relaxed' ? 'wasm' : impl.slice('sparsecast-'.length);
      engine.useBackend(backendName);
      runner = sparsecastStep(s, backendName);
    } else {
      runner = await tfjsStep(s);
    }
    let loss = 0;
    const ms = await medianMs(async () => {
      loss = await runner.step();
    }, { warmup: 1, runs: opts.runs ?? 5 });
    runner.dispose();
    const threads = impl.startsWith('sparsecast-wasm') ? (engine.getBackend('wasm') as { threads?: number }).threads ?? 1 : 1;
    emit(opts.json, {
      bench: 'block', impl, ms: +ms.toFixed(1), gflops: +(flops / ms / 1e6).toFixed(2), loss: +loss.toFixed(6), ...s,
      ...(threads > 1 ? { threads } : {}),
    });
  }
}
