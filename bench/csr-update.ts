/**
 * `npm run bench -- csr-update [--json] [--runs N]`: what sparse execution pays to keep a layer's CSR pair
 * (W and Wᵀ) current, on wasm, for the presets' weight shapes at 30% density —
 *   refresh  after an optimizer step: the previous way (mask-driven dense-to-CSR of W and of a permuted Wᵀ)
 *            vs the gather of W's values at the pattern positions (src/sparse/csr-pattern.ts);
 *   topology after a prune/grow step moving `changed` of the active weights: full rebuild of both patterns
 *            from the mask vs the incremental update (one mask diff, then changed rows merged in each
 *            pattern), uploads included.
 * Lines: {"bench":"csr-update","what","n","k","density","changed","full_ms","incremental_ms","speedup"}; topology lines
 * add the host pattern work alone (without the uploads and gather positions both paths share):
 * "patterns_full_ms","patterns_incremental_ms","patterns_speedup".
 */
import { engine } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import * as op from '../src/ops/index.ts';
import { denseToCsr, Csr } from '../src/ops/sparse.ts';
import { CsrPattern, maskChanges } from '../src/sparse/csr-pattern.ts';
import { transposeMask } from '../src/sparse/crossover.ts';
import { emit, medianMs } from './stats.ts';

const SHAPES: Array<[number, number]> = [[64, 64], [256, 64], [64, 256], [512, 512], [2048, 512], [512, 2048]];

function movedMask(rng: Rng, mask: Uint8Array, fraction: number): Uint8Array {
  const next = mask.slice();
  const on: number[] = [];
  const off: number[] = [];
  for (let i = 0; i < next.length; i++) (next[i] ? on : off).push(i);
  const c = Math.round(on.length * fraction);
  const u = rng.uniform(2 * c);
  for (let i = 0; i < c; i++) next[on[Math.floor(u[i]! * on.length)]!] = 0;
  for (let i = 0; i < c; i++) next[off[Math.floor(u[c + i]! * off.length)]!] = 1;
  return next;
}

export async function benchCsrUpdate(opts: { json: boolean; runs?: number }): Promise<void> {
  engine.useBackend('wasm');
  const runs = opts.runs ?? 15;
  const density = 0.3;
  for (const [n, k] of SHAPES) {
    const rng = new Rng(n * 7 + k);
    const mask = Uint8Array.from(rng.uniform(n * k), (v) => (v < density ? 1 : 0));
    const w = engine.keep(op.mul(op.tensor(rng.normal(n * k), [n, k]), op.tensor(Float32Array.from(mask), [n, k])));
    const m = engine.keep(op.tensor(mask, [n, k], { dtype: 'u8' }));
    const mt = engine.keep(op.tensor(transposeMask(mask, n, k), [k, n], { dtype: 'u8' }));
    const nnz = mask.reduce((a, v) => a + v, 0);
    const p = CsrPattern.fromMask(mask, n, k);
    const pt = CsrPattern.fromMask(mask, n, k, true);
    const pos = engine.keep(op.tensor(p.positions(), [nnz], { dtype: 'i32' }));
    const post = engine.keep(op.tensor(pt.positions(), [nnz], { dtype: 'i32' }));
    const full = await medianMs(() => engine.noGrad(() => engine.tidy(() => {
      denseToCsr(w, m, { nnz });
      denseToCsr(op.permute(w, [1, 0]), mt, { nnz });
    })), { runs });
    const gathered = await medianMs(() => engine.noGrad(() => engine.tidy(() => {
      const flat = op.reshape(w, [n * k]);
      op.gather(flat, 0, pos);
      op.gather(flat, 0, post);
    })), { runs });
    emit(opts.json, { bench: 'csr-update', what: 'refresh', n, k, density, changed: 0, full_ms: +full.toFixed(4), incremental_ms: +gathered.toFixed(4), speedup: +(full / gathered).toFixed(2) });
    for (const fraction of [0.01, 0.1]) {
      const next = movedMask(rng, mask, fraction);
      const upload = (a: CsrPattern, shape: [number, number]) => engine.tidy(() => {
        Csr.fromArrays(a.rowPtr, a.colIdx, new Float32Array(a.nnz), shape);
        op.tensor(a.positions(), [a.nnz], { dtype: 'i32' });
      });
      const rebuild = await medianMs(() => {
        upload(CsrPattern.fromMask(next, n, k), [n, k]);
        upload(CsrPattern.fromMask(next, n, k, true), [k, n]);
      }, { runs });
      const rebuildPatterns = await medianMs(() => {
        CsrPattern.fromMask(next, n, k);
        CsrPattern.fromMask(next, n, k, true);
      }, { runs });
      // Each timed run updates a fresh copy of the old patterns (built outside the timing).
      const times: number[] = [];
      const patternTimes: number[] = [];
      for (let r = 0; r < Math.max(5, runs) + 1; r++) {
        const a = CsrPattern.fromMask(mask, n, k);
        const b = CsrPattern.fromMask(mask, n, k, true);
        const t0 = performance.now();
        const changes = maskChanges(mask, next);
        a.applyChanges(changes, next);
        b.applyChanges(changes, next);
        const t1 = performance.now();
        upload(a, [n, k]);
        upload(b, [k, n]);
        if (r > 0) {
          times.push(performance.now() - t0);
          patternTimes.push(t1 - t0);
        }
      }
      const median = (xs: number[]) => xs.sort((x, y) => x - y)[xs.length >> 1]!;
      const inc = median(times);
      const incPatterns = median(patternTimes);
      emit(opts.json, {
        bench: 'csr-update', what: 'topology', n, k, density, changed: fraction, full_ms: +rebuild.toFixed(4), incremental_ms: +inc.toFixed(4), speedup: +(rebuild / inc).toFixed(2),
        patterns_full_ms: +rebuildPatterns.toFixed(4), patterns_incremental_ms: +incPatterns.toFixed(4), patterns_speedup: +(rebuildPatterns / incPatterns).toFixed(2),
      });
    }
    for (const t of [w, m, mt, pos, post]) t.dispose();
  }
}
