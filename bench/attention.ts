/**
 * Fused vs unfused attention (`scaledDotProductAttention` with `weights: false` vs with the weights) at the
 * shapes of the forecasting Transformer: encoder self-attention (L 96), decoder causal self-attention (L 144 =
 * label 48 + pred 96) and cross-attention (144 × 96), batch 32, small preset (4 heads of E 16) and full preset
 * (8 heads of E 64). `forward`: no dropout, no tape (inference); `forward+backward`: dropout 0.05 (the presets'
 * rate) in training mode, backward of Σ out·G (a training step's attention work).
 * Usage: npm run bench -- attention [--json] [--backend wasm|js|webgpu] [--runs N] [--preset small|full|all]
 * One line per (shape, pass, impl): {"bench":"attention","impl","backend","pass","b","h","lq","lk","e","causal","dropout","ms"}.
 */
import { engine, noGrad, tidy } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import type { Tensor } from '../src/tensor/tensor.ts';
import * as op from '../src/ops/index.ts';
import { backward } from '../src/autograd/backward.ts';
import { emit, medianMs } from './stats.ts';

interface AttnShape {
  b: number;
  h: number;
  lq: number;
  lk: number;
  e: number;
  causal: boolean;
}

export function attentionShapes(preset: 'small' | 'full' | 'all'): AttnShape[] {
  const heads = { small: [4, 16], full: [8, 64] } as const;
  const out: AttnShape[] = [];
  for (const p of preset === 'all' ? (['small', 'full'] as const) : [preset]) {
    const [h, e] = heads[p];
    out.push({ b: 32, h, lq: 96, lk: 96, e, causal: false });
    out.push({ b: 32, h, lq: 144, lk: 144, e, causal: true });
    out.push({ b: 32, h, lq: 144, lk: 96, e, causal: false });
  }
  return out;
}

async function sync(t: Tensor): Promise<void> {
  // One element read waits for the queued work on WebGPU; CPU backends are synchronous anyway.
  if (t.backend.name === 'webgpu') await t.data();
}

export async function benchAttention(opts: { json: boolean; backend?: string; runs?: number; preset?: 'small' | 'full' | 'all' }): Promise<void> {
  const backend = opts.backend ?? 'wasm';
  engine.useBackend(backend);
  for (const s of attentionShapes(opts.preset ?? 'all')) {
    const data = new Rng(3);
    const mk = (l: number, grad: boolean) => {
      const t = engine.keep(op.tensor(data.normal(s.b * s.h * l * s.e), [s.b, s.h, l, s.e]));
      t.requiresGrad = grad;
      return t;
    };
    const q = mk(s.lq, true);
    const k = mk(s.lk, true);
    const v = mk(s.lk, true);
    const g = mk(s.lq, false);
    const rng = new Rng(1);
    for (const pass of ['forward', 'forward+backward'] as const) {
      for (const impl of ['fused', 'unfused'] as const) {
        const training = pass !== 'forward';
        const dropout = training ? 0.05 : 0;
        const run = async () => {
          const out = tidy(() => {
            const attnOpts = { causal: s.causal, dropout, rng, training };
            // Asking for the weights is what keeps the unfused path (FullAttention's path before the kernel).
            const call = () => {
              if (impl === 'fused') return op.scaledDotProductAttention(q, k, v, { ...attnOpts, weights: false }).output;
              const r = op.scaledDotProductAttention(q, k, v, attnOpts);
              r.attn.dispose();
              return r.output;
            };
            if (!training) return noGrad(call);
            const o = call();
            backward(op.sum(op.mul(o, g)));
            return o;
          });
          await sync(out);
          out.dispose();
          for (const t of [q, k, v]) {
            if (t.grad) {
              await sync(t.grad);
              t.grad.dispose();
              t.grad = null;
            }
          }
        };
        const ms = await medianMs(run, { runs: opts.runs ?? 5 });
        emit(opts.json, { bench: 'attention', impl, backend, pass, b: s.b, h: s.h, lq: s.lq, lk: s.lk, e: s.e, causal: s.causal, dropout, ms });
      }
    }
    for (const t of [q, k, v, g]) t.dispose();
  }
}
