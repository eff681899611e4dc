/**
 * A tiny deterministic training run that every runtime can execute (Node, Deno, Chromium): a 2-layer MLP
 * (16 → 32 → 1, gelu) trained with Adam for 20 steps on a fixed synthetic regression task. Everything comes from
 * the seeded generator on the host (no file access); inputs, targets and initial parameters are made with exact
 * IEEE arithmetic only (no transcendental host math), so the starting point is bit-identical everywhere and any
 * difference in the result comes from the engine and its backend.
 *
 * The result's `finalLossBits` (the f32 bits of the last loss, hex) and `paramHash` (FNV-1a 64 over the raw
 * little-endian bytes of every parameter after training) must be identical for one backend across runtimes.
 * Runtime-neutral: no node: imports.
 */
import type { Backend } from '../../src/backend/kernels.ts';
import '../../src/tensor/tensor.ts'; // installs the tensor factory on the engine
import { engine, tidy } from '../../src/tensor/engine.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { Rng } from '../../src/tensor/random.ts';
import { tensor, linear, gelu, mseLoss } from '../../src/ops/index.ts';
import { backward } from '../../src/autograd/backward.ts';
import { Adam } from '../../src/train/adam.ts';

export interface TinyRunResult {
  backend: string;
  steps: number;
  /** Loss of the last step (computed before its update), as a JS number. */
  finalLoss: number;
  /** The same loss as the 8 hex digits of its f32 bit pattern. */
  finalLossBits: string;
  /** f32 bit patterns of every step's loss. */
  lossBits: string[];
  /** FNV-1a 64 (hex) over the bytes of W1, b1, W2, b2 after training. */
  paramHash: string;
  /** Live tensors on this backend after the run minus before it (0: nothing leaked). */
  leakedTensors: number;
}

export const TINY = { inF: 16, hidden: 32, outF: 1, samples: 64, steps: 20, lr: 1e-2, seed: 20240531 } as const;

/** f32 bit pattern as 8 hex digits. */
export function f32Bits(v: number): string {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setFloat32(0, v, true);
  return dv.getUint32(0, true).toString(16).padStart(8, '0');
}

const FNV64_OFFSET = 0xcbf29ce484222325n;
const FNV64_PRIME = 0x100000001b3n;
const MASK64 = 0xffffffffffffffffn;

/** FNV-1a 64 over a sequence of byte arrays (hex, 16 digits). */
export function fnv1a64(chunks: Uint8Array[]): string {
  let h = FNV64_OFFSET;
  for (const bytes of chunks) {
    for (let i = 0; i < bytes.length; i++) {
      h ^= BigInt(bytes[i]!);
      h = (h * FNV64_PRIME) & MASK64;
    }
  }
  return h.toString(16).padStart(16, '0');
}

/** Little-endian bytes of a typed array (explicitly, whatever the platform). */
function leBytes(a: Float32Array): Uint8Array {
  const out = new Uint8Array(a.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) dv.setFloat32(i * 4, a[i]!, true);
  return out;
}

/** Uniform in [-bound, bound), from the seeded stream with exact arithmetic. */
function uniformSym(rng: Rng, n: number, bound: number): Float32Array {
  const u = rng.uniform(n);
  for (let i = 0; i < n; i++) u[i] = (2 * u[i]! - 1) * bound;
  return u;
}

/** The task: y = 0.5·(x·a)² − x·b + 0.25 (a polynomial: exact IEEE operations only). */
function makeTask(rng: Rng): { x: Float32Array; y: Float32Array } {
  const { inF, samples } = TINY;
  const x = uniformSym(rng, samples * inF, 1);
  const a = uniformSym(rng, inF, 0.5);
  const b = uniformSym(rng, inF, 0.5);
  const y = new Float32Array(samples);
  for (let s = 0; s < samples; s++) {
    let xa = 0;
    let xb = 0;
    for (let j = 0; j < inF; j++) {
      xa += x[s * inF + j]! * a[j]!;
      xb += x[s * inF + j]! * b[j]!;
    }
    y[s] = 0.5 * xa * xa - xb + 0.25;
  }
  return { x, y };
}

function liveTensors(name: string): number {
  return engine.memory().perBackend[name]?.tensors ?? 0;
}

/**
 * Train the tiny MLP on `backend` (registered with the engine under its name if needed; the engine's current
 * backend is left alone: every tensor is created on `backend` explicitly and ops follow their inputs).
 */
export async function tinyRun(backend: Backend): Promise<TinyRunResult> {
  const name = backend.name;
  if (!engine.hasBackend(name) || engine.getBackend(name) !== backend) engine.registerBackend(backend);
  const before = liveTensors(name);
  const r = await train(backend);
  return { ...r, leakedTensors: liveTensors(name) - before };
}

async function train(backend: Backend): Promise<Omit<TinyRunResult, 'leakedTensors'>> {
  const name = backend.name;
  const on = { backend: name };
  const { inF, hidden, outF, samples, steps, lr, seed } = TINY;
  const rng = new Rng(seed);
  const task = makeTask(rng);

  const param = (values: Float32Array, shape: number[], pname: string): Tensor => {
    const t = tensor(values, shape, on);
    t.requiresGrad = true;
    t.name = pname;
    return t;
  };
  const w1 = param(uniformSym(rng, hidden * inF, 1 / Math.sqrt(inF)), [hidden, inF], 'w1');
  const b1 = param(uniformSym(rng, hidden, 1 / Math.sqrt(inF)), [hidden], 'b1');
  const w2 = param(uniformSym(rng, outF * hidden, 1 / Math.sqrt(hidden)), [outF, hidden], 'w2');
  const b2 = param(uniformSym(rng, outF, 1 / Math.sqrt(hidden)), [outF], 'b2');
  const params = [w1, b1, w2, b2];
  const x = tensor(task.x, [samples, inF], on);
  const y = tensor(task.y, [samples, outF], on);
  const opt = new Adam(params, { lr });

  const lossBits: string[] = [];
  let finalLoss = NaN;
  try {
    for (let step = 0; step < steps; step++) {
      const loss = tidy(() => {
        const h = gelu(linear(x, w1, b1));
        const pred = linear(h, w2, b2);
        const l = mseLoss(pred, y);
        backward(l);
        opt.step();
        opt.zeroGrad();
        return l;
      });
      const v = (await loss.data())[0]!;
      loss.dispose();
      lossBits.push(f32Bits(v));
      finalLoss = v;
    }
    const bytes: Uint8Array[] = [];
    for (const p of params) bytes.push(leBytes((await p.data()) as Float32Array));
    return { backend: name, steps, finalLoss, finalLossBits: f32Bits(finalLoss), lossBits, paramHash: fnv1a64(bytes) };
  } finally {
    opt.dispose();
    for (const t of [...params, x, y]) t.dispose();
  }
}
