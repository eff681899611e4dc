// Finite-difference gradient checks for every differentiable op in movement, indexing, conv, pool,
// batchnorm, spectral, sparse and attention, on the js, wasm and webgpu backends (webgpu: Dawn in Node,
// lavapipe without a GPU; the shapes are tiny). On webgpu, ops cannot read values to the host synchronously:
// the one op here that needs a count (denseToCsr) is given it (`{ nnz }`), as csrTranspose does.
import { beforeEach, describe, expect, it } from 'vitest';
import '../src/tensor/tensor.ts';
import { engine } from '../src/tensor/engine.ts';
import type { Tensor } from '../src/tensor/tensor.ts';
import { Rng } from '../src/tensor/random.ts';
import { createJsBackend } from '../src/backend/js/backend.ts';
import { createWasmBackendSync } from '../src/backend/wasm/backend.ts';
import { gradcheck, type GradcheckOptions } from '../src/autograd/gradcheck.ts';
import { nodeWebGpu } from './shared/webgpu-node.ts';
import { tensor } from '../src/ops/creation.ts';
import { add, mul } from '../src/ops/binary.ts';
import { tanh } from '../src/ops/unary.ts';
import {
  broadcastTo, concat, cumsum, expand, pad, permute, repeat, repeatInterleave, roll, slice, split, squeeze, stack,
  tile, transpose, unsqueeze,
} from '../src/ops/movement.ts';
import { gather, indexSelect, scatterAdd, topk } from '../src/ops/indexing.ts';
import { conv1d } from '../src/ops/conv.ts';
import { avgPool1d, maxPool1d } from '../src/ops/pool.ts';
import { batchNorm1d } from '../src/ops/batchnorm.ts';
import {
  complexConj, complexEinsumBHI_HIO, complexMatmul, complexMul, complexMulConj, irfft, rfft,
} from '../src/ops/spectral.ts';
import { Csr, csrToDense, denseCsrT, denseToCsr, denseToCsrAsync, sddmm, spmm } from '../src/ops/sparse.ts';
import { causalMask, maskedFill, scaledDotProductAttention } from '../src/ops/attention.ts';
import { fusedAttention } from '../src/ops/fused-attention.ts';

engine.registerBackend(createJsBackend());
engine.registerBackend(createWasmBackendSync());
const webgpu = await nodeWebGpu();
if (webgpu.backend) engine.registerBackend(webgpu.backend);

let seed = 100;
/** Random f32 tensor with well-separated values (no ties for max/topk). */
function rand(shape: number[], scale = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Array.from(new Rng(seed++).normal(n)).map((v) => v * scale), shape);
}

/** Distinct values (a shuffled ramp plus noise), for max-pooling and top-k. */
function distinct(shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const p = new Rng(seed++).permutation(n);
  return tensor(Array.from(p, (v) => (v - n / 2) * 0.37), shape);
}

function ints(values: number[], shape: number[]): Tensor {
  return tensor(values, shape, { dtype: 'i32' });
}

async function check(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): Promise<void> {
  const r = await gradcheck(fn, inputs, opts);
  for (const t of inputs) t.dispose();
  if (!r.ok) throw new Error(`gradcheck failed:\n${r.summary}`);
  expect(r.ok).toBe(true);
}

describe.each(['js', 'wasm', 'webgpu'])('gradcheck ops2 on %s', (backend) => {
  const use = () => engine.useBackend(backend);
  // Without a webgpu adapter the webgpu tests fail with the backend's explanation (never a skip).
  beforeEach(() => {
    if (backend === 'webgpu' && webgpu.error) throw webgpu.error;
  });

  describe('movement', () => {
    it('permute / transpose', async () => {
      use();
      await check((x) => permute(x, [2, 0, 1]), [rand([2, 3, 4])]);
      await check((x) => transpose(x, 0, 2), [rand([2, 3, 2])]);
    });
    it('slice', async () => {
      use();
      await check((x) => slice(x, [1, 0, 1], [1, -1, 2]), [rand([2, 3, 4])]);
    });
    it('concat / split / stack', async () => {
      use();
      await check((a, b) => concat([a, b], 1), [rand([2, 2, 3]), rand([2, 3, 3])]);
      await check((x) => {
        const [p, q, r] = split(x, [1, 2, 1], 1);
        return concat([mul(p!, 2), tanh(q!), mul(r!, r!)], 1);
      }, [rand([2, 4])]);
      await check((a, b) => stack([a, b], 1), [rand([2, 3]), rand([2, 3])]);
    });
    for (const mode of ['zero', 'circular', 'replicate'] as const) {
      it(`pad ${mode} (pads wider than the axis, several axes)`, async () => {
        use();
        await check((x) => pad(x, [[1, 2]], mode), [rand([2, 3])]);
        await check((x) => pad(x, [[4, 7]], mode), [rand([2, 3])]);
        await check((x) => pad(x, [[2, 1], [3, 5]], mode), [rand([2, 2])]);
        await check((x) => pad(x, [[0, 0], [1, 1], [0, 3]], mode), [rand([2, 1, 3])]);
      });
    }
    it('roll / cumsum', async () => {
      use();
      await check((x) => roll(x, 2, 1), [rand([2, 5])]);
      await check((x) => roll(x, -1, 0), [rand([3, 2])]);
      await check((x) => cumsum(x, 1), [rand([2, 4])]);
      await check((x) => cumsum(x, 0, { reverse: true }), [rand([3, 2])]);
    });
    it('broadcastTo / expand / repeat / tile / repeatInterleave / squeeze / unsqueeze', async () => {
      use();
      await check((x) => broadcastTo(x, [2, 3, 4]), [rand([3, 1])]);
      await check((x) => expand(x, [2, -1, 4]), [rand([1, 3, 1])]);
      await check((x) => repeat(x, [2, 1, 3]), [rand([2, 2])]);
      await check((x) => tile(x, [2]), [rand([2, 3])]);
      await check((x) => repeatInterleave(x, 3, 1), [rand([2, 2])]);
      await check((x) => mul(unsqueeze(squeeze(x), 0), 3), [rand([1, 3, 1])]);
    });
  });

  describe('indexing', () => {
    it('indexSelect (repeated indices accumulate)', async () => {
      use();
      await check((x) => indexSelect(x, 1, [2, 0, 2, 2]), [rand([2, 3])]);
      await check((x, i) => indexSelect(x, 0, i!), [rand([3, 2]), ints([1, 1, 0], [3])]);
    });
    it('gather / scatterAdd', async () => {
      use();
      await check((x, i) => gather(x, 1, i!), [rand([2, 3]), ints([2, 2, 0, 1, 0, 0], [2, 3])]);
      await check((x, i) => gather(x, 0, i!), [rand([3, 2]), ints([2, 0], [1, 2])].slice(0, 1).concat([ints([2, 0, 1, 1, 0, 2], [3, 2])]));
      await check((s, i) => scatterAdd(s, i!, 1, [2, 4]), [rand([2, 3]), ints([3, 3, 0, 1, 0, 0], [2, 3])]);
    });
    it('topk values', async () => {
      use();
      await check((x) => topk(x, 3).values, [distinct([2, 6])]);
      await check((x) => topk(x, 2, { largest: false }).values, [distinct([3, 4])]);
    });
  });

  describe('conv and pool', () => {
    for (const mode of ['zeros', 'circular', 'replicate'] as const) {
      it(`conv1d ${mode}`, async () => {
        use();
        await check(
          (x, w, b) => conv1d(x, w, b, { padding: 1, paddingMode: mode }),
          [rand([2, 3, 5]), rand([2, 3, 3]), rand([2])],
        );
        await check(
          (x, w) => conv1d(x, w, null, { stride: 2, dilation: 2, padding: 2, paddingMode: mode }),
          [rand([1, 2, 7]), rand([3, 2, 3])],
        );
      });
    }
    it('avgPool1d / maxPool1d', async () => {
      use();
      await check((x) => avgPool1d(x, 3, 2, 1), [rand([2, 2, 7])]);
      await check((x) => avgPool1d(x, 4, 1, 0), [rand([1, 6])]);
      await check((x) => maxPool1d(x, 3, 2, 1), [distinct([2, 2, 7])]);
      await check((x) => maxPool1d(x, 2), [distinct([1, 3, 4])]);
    });
  });

  describe('batchnorm', () => {
    it('batchNorm1d training (x, gamma, beta) and eval', async () => {
      use();
      await check(
        (x, g, b) => batchNorm1d(x, g!, b!, null, { training: true }),
        [rand([3, 2, 4]), rand([2]), rand([2])],
        { atol: 2e-2, eps: 1e-3 },
      );
      await check((x) => batchNorm1d(x, null, null, null, { training: true }), [rand([4, 3])], { atol: 2e-2, eps: 1e-3 });
      await check((x, g, b, m, v) => batchNorm1d(x, g!, b!, { mean: m!, var: v! }, { training: false }), [
        rand([2, 2, 3]), rand([2]), rand([2]), rand([2]), tensor([0.5, 2], [2]),
      ], { wrt: [0, 1, 2] });
    });
  });

  describe('spectral', () => {
    for (const n of [8, 7, 1, 2]) {
      it(`rfft / irfft n = ${n}`, async () => {
        use();
        await check((x) => rfft(x), [rand([2, n])]);
        const m = Math.floor(n / 2) + 1;
        await check((X) => irfft(X, n), [rand([2, m, 2])]);
        await check((x) => irfft(mul(rfft(x), rfft(x)), n), [rand([1, n])]);
      });
    }
    it('complexMul / complexMulConj / complexConj (broadcasting)', async () => {
      use();
      await check((a, b) => complexMul(a, b), [rand([2, 3, 2]), rand([3, 2])]);
      await check((a, b) => complexMulConj(a, b), [rand([2, 3, 2]), rand([2, 1, 2])]);
      await check((a) => complexConj(a), [rand([3, 2])]);
    });
    it('complexMatmul / complexEinsumBHI_HIO', async () => {
      use();
      await check((a, b) => complexMatmul(a, b), [rand([2, 2, 3, 2]), rand([3, 2, 2])]);
      await check((a, b) => complexMatmul(a, b, { transA: true, transB: true }), [rand([3, 2, 2]), rand([2, 3, 2])]);
      await check((x, w) => complexEinsumBHI_HIO(x, w), [rand([2, 2, 2, 2]), rand([2, 2, 3, 2])]);
      await check((x, w) => complexEinsumBHI_HIO(x, w), [rand([1, 2, 2, 3, 2]), rand([2, 2, 2, 3, 2])]);
    });
    it('AutoCorrelation pipeline: irfft(rfft(q) · conj(rfft(k)))', async () => {
      use();
      await check((q, k) => irfft(complexMulConj(rfft(q), rfft(k)), 6), [rand([2, 6]), rand([2, 6])]);
    });
  });

  describe('sparse', () => {
    // Pattern of a [3, 4] matrix: (0,1) (0,3) (1,0) (2,2) (2,3).
    const pattern = () => [ints([0, 2, 3, 5], [4]), ints([1, 3, 0, 2, 3], [5])];
    const csr = (rp: Tensor, ci: Tensor, v: Tensor) => new Csr(rp, ci, v, [3, 4]);

    it('spmm (values and dense operand)', async () => {
      use();
      await check((v, b, rp, ci) => spmm(csr(rp!, ci!, v!), b!), [rand([5]), rand([4, 2]), ...pattern()]);
    });
    it('denseCsrT (dense input and values)', async () => {
      use();
      await check((x, v, rp, ci) => denseCsrT(x!, csr(rp!, ci!, v!)), [rand([2, 4]), rand([5]), ...pattern()]);
    });
    it('denseCsrT with a bias (dense input, values and the fused bias)', async () => {
      use();
      await check((x, v, b, rp, ci) => denseCsrT(x!, csr(rp!, ci!, v!), b!), [rand([2, 4]), rand([5]), rand([3]), ...pattern()]);
    });
    for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      it(`sddmm transA=${transA} transB=${transB}`, async () => {
        use();
        const aShape = transA ? [2, 3] : [3, 2];
        const bShape = transB ? [4, 2] : [2, 4];
        await check(
          (a, b, rp, ci) => sddmm(a!, b!, csr(rp!, ci!, tensor(new Float32Array(5), [5], { backend })), { transA, transB }),
          [rand(aShape), rand(bShape), ...pattern()],
        );
      });
    }
    it('csrToDense / denseToCsr', async () => {
      use();
      await check((v, rp, ci) => csrToDense(csr(rp!, ci!, v!)), [rand([5]), ...pattern()]);
      // Empty first and middle rows.
      await check((v, rp, ci) => csrToDense(new Csr(rp!, ci!, v!, [4, 3])), [rand([3]), ints([0, 0, 2, 2, 3], [5]), ints([0, 2, 1], [3])]);
      const mask = tensor([1, 0, 1, 1, 0, 1], [2, 3], { dtype: 'u8' });
      if (backend === 'webgpu') {
        // No synchronous count on the GPU: a clear error pointing at { nnz } and denseToCsrAsync, and the async
        // form counts on the GPU first.
        const x = rand([2, 3]);
        expect(() => denseToCsr(x, mask)).toThrow(
          /^denseToCsr: backend 'webgpu' cannot count the stored entries of \[2, 3\] synchronously; pass \{ nnz \}.*denseToCsrAsync/,
        );
        const xs = Array.from(await x.data());
        const c = await denseToCsrAsync(x, mask);
        expect(c.nnz).toBe(4);
        expect(Array.from(await c.values.data())).toEqual([0, 2, 3, 5].map((i) => xs[i]!));
        expect(Array.from(await c.colIdx.data())).toEqual([0, 2, 0, 2]);
        c.dispose();
        x.dispose();
        mask.dispose();
      } else {
        await check((x, m) => denseToCsr(x!, m!).values, [rand([2, 3]), mask]);
      }
      // With the count given (no host read needed: the form that runs on webgpu), and checked by the backend.
      await check((x, m) => denseToCsr(x!, m!, { nnz: 4 }).values, [rand([2, 3]), tensor([1, 0, 1, 1, 0, 1], [2, 3], { dtype: 'u8' })]);
      // Without a mask: the count of x's non-zeros.
      await check((x) => denseToCsr(mul(x!, tensor([1, 0, 1, 0, 1, 1], [2, 3])), null, { nnz: 4 }).values, [rand([2, 3])]);
    });
  });

  describe('attention', () => {
    it('maskedFill', async () => {
      use();
      await check((x, m) => maskedFill(x!, m!, -3), [rand([2, 3]), tensor([1, 0, 1], [3], { dtype: 'u8' })]);
    });
    it('scaledDotProductAttention (causal mask; dropout with a fixed seed)', async () => {
      use();
      await check(
        (q, k, v, m) => scaledDotProductAttention(q!, k!, v!, { mask: m }).output,
        [rand([2, 3, 4], 0.7), rand([2, 3, 4], 0.7), rand([2, 3, 2]), causalMask(3, { backend })],
      );
      await check(
        (q, k, v) =>
          add(scaledDotProductAttention(q!, k!, v!, { dropout: 0.3, rng: new Rng(7), training: true }).attn, 0),
        [rand([1, 2, 4, 3], 0.7), rand([1, 2, 4, 3], 0.7), rand([1, 2, 4, 2])],
      );
    });
    it('fusedAttention (plain; causal with Lq ≠ Lk; window with dropout at a fixed seed; scale not a power of two)', async () => {
      use();
      await check((q, k, v) => fusedAttention(q!, k!, v!), [rand([2, 3, 4], 0.7), rand([2, 3, 4], 0.7), rand([2, 3, 2])]);
      await check(
        (q, k, v) => fusedAttention(q!, k!, v!, { causal: true, scale: 0.3 }),
        [rand([1, 2, 5, 3], 0.7), rand([1, 2, 4, 3], 0.7), rand([1, 2, 4, 3])],
      );
      await check(
        (q, k, v) => fusedAttention(q!, k!, v!, { window: 1, dropout: 0.3, rng: new Rng(7), training: true }),
        [rand([2, 6, 3], 0.7), rand([2, 6, 3], 0.7), rand([2, 6, 2])],
      );
    });
  });
});
