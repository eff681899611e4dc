/**
 * WebGPU glue for matmul (shaders/matmul.wgsl): batched, transpose flags, batch broadcasting, fused bias.
 *
 * The register tile (BM x BN per workgroup, TM x TN per invocation, BK deep) is a pipeline specialization.
 * `tuneMatmul` runs a short timed trial of the candidates that fit the device's workgroup limits on a
 * 128 x 128 x 128 product (a few milliseconds even on a software GPU), keeps the fastest, and caches the
 * choice per adapter for the process. Until tuned, the conservative 32 x 32 tile is used.
 */
import type { Kernels, MatmulArgs, Storage } from '../../kernels.ts';
import { sizeOf, stridesOf, broadcastShapes } from '../../../tensor/shape.ts';
import { Params, type WebGpuRuntime } from '../runtime.ts';

export interface MatmulTile {
  BM: number;
  BN: number;
  BK: number;
  TM: number;
  TN: number;
}

export const MATMUL_TILES: readonly MatmulTile[] = [
  { BM: 32, BN: 32, BK: 8, TM: 4, TN: 4 },    // 64 invocations
  { BM: 64, BN: 64, BK: 8, TM: 4, TN: 4 },    // 256 invocations
  { BM: 32, BN: 64, BK: 16, TM: 4, TN: 4 },   // 128 invocations
  { BM: 64, BN: 64, BK: 16, TM: 8, TN: 4 },   // 128 invocations
  { BM: 16, BN: 16, BK: 16, TM: 2, TN: 2 },   // 64 invocations
];

const tuned = new Map<string, MatmulTile>();

function fits(rt: WebGpuRuntime, t: MatmulTile): boolean {
  const threads = (t.BM / t.TM) * (t.BN / t.TN);
  const shared = 4 * (t.BM * t.BK + t.BK * t.BN);
  return (
    threads <= rt.limits.maxComputeInvocationsPerWorkgroup &&
    t.BN / t.TN <= rt.limits.maxComputeWorkgroupSizeX &&
    t.BM / t.TM <= rt.limits.maxComputeWorkgroupSizeY &&
    shared <= rt.limits.maxComputeWorkgroupStorageSize
  );
}

export class MatmulKernel {
  tile: MatmulTile = MATMUL_TILES[0]!;

  constructor(private readonly rt: WebGpuRuntime) {
    const t = tuned.get(rt.description);
    if (t) this.tile = t;
  }

  get isTuned(): boolean {
    return tuned.has(this.rt.description);
  }

  /** Time every candidate tile once on a 128^3 product (after a warm-up that compiles it); keep the fastest. */
  async tune(size = 128, reps = 2): Promise<{ tile: MatmulTile; ms: Record<string, number> }> {
    const rt = this.rt;
    const cached = tuned.get(rt.description);
    if (cached) {
      this.tile = cached;
      return { tile: cached, ms: {} };
    }
    const n = size * size;
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = ((i * 7919) % 1000) / 1000 - 0.5;
    const a = rt.upload(data);
    const b = rt.upload(data);
    const ms: Record<string, number> = {};
    let best: MatmulTile = this.tile;
    let bestMs = Infinity;
    try {
      for (const t of MATMUL_TILES) {
        if (!fits(rt, t)) continue;
        this.tile = t;
        const run = () =>
          this.run({ a, b, aShape: [size, size], bShape: [size, size], transA: false, transB: false });
        rt.free(run());
        await rt.sync();
        const t0 = performance.now();
        for (let r = 0; r < reps; r++) rt.free(run());
        await rt.sync();
        const el = (performance.now() - t0) / reps;
        ms[`${t.BM}x${t.BN}x${t.BK}/${t.TM}x${t.TN}`] = el;
        if (el < bestMs) {
          bestMs = el;
          best = t;
        }
      }
    } finally {
      rt.free(a);
      rt.free(b);
    }
    this.tile = best;
    tuned.set(rt.description, best);
    return { tile: best, ms };
  }

  run(args: MatmulArgs): Storage {
    const rt = this.rt;
    const op = 'matmul';
    const as = rt.check(args.a, op);
    const bs = rt.check(args.b, op);
    const { aShape, bShape, transA, transB } = args;
    const ra = aShape.length;
    const rb = bShape.length;
    const [ar, ac] = [aShape[ra - 2]!, aShape[ra - 1]!];
    const [br, bc] = [bShape[rb - 2]!, bShape[rb - 1]!];
    const M = transA ? ac : ar;
    const K = transA ? ar : ac;
    const N = transB ? br : bc;
    const Kb = transB ? bc : br;
    if (K !== Kb) throw new Error(`matmul: inner dimensions differ (${K} vs ${Kb})`);
    const aBatch = aShape.slice(0, -2);
    const bBatch = bShape.slice(0, -2);
    const batchShape = broadcastShapes('matmul', aBatch, bBatch);
    const batches = sizeOf(batchShape);
    const out = rt.alloc(batches * M * N, 'f32', false, op);
    if (batches * M * N === 0) return out;
    // Batch strides in elements (0 where broadcast), merged where possible.
    const rank = batchShape.length;
    const aStr = stridesOf(aBatch).map((s) => s * ar * ac);
    const bStr = stridesOf(bBatch).map((s) => s * br * bc);
    const sa: number[] = [];
    const sb: number[] = [];
    const shape: number[] = [];
    for (let d = 0; d < rank; d++) {
      const ka = aBatch.length - rank + d;
      const kb = bBatch.length - rank + d;
      const dim = batchShape[d]!;
      if (dim === 1) continue;
      shape.push(dim);
      sa.push(ka >= 0 && aBatch[ka] !== 1 ? aStr[ka]! : 0);
      sb.push(kb >= 0 && bBatch[kb] !== 1 ? bStr[kb]! : 0);
    }
    if (shape.length > 8) throw new Error('matmul: webgpu supports at most 8 batch dimensions');
    const p = new Params()
      .set(0, M).set(1, N).set(2, K).set(3, args.bias ? 1 : 0)
      .set(4, transA ? 1 : ac).set(5, transA ? ac : 1)
      .set(6, transB ? 1 : bc).set(7, transB ? bc : 1)
      .set(8, shape.length).setAll(16, shape).setAll(24, sa).setAll(32, sb);
    const bias = args.bias ? rt.check(args.bias, op) : rt.dummy();
    const t = this.tile;
    if (batches > rt.limits.maxComputeWorkgroupsPerDimension) {
      throw new Error(`matmul: ${batches} batches exceed the dispatch limit`);
    }
    rt.dispatch({
      family: 'matmul', entry: 'matmul', spec: { BM: t.BM, BN: t.BN, BK: t.BK, TM: t.TM, TN: t.TN },
      params: p, buffers: [as, bs, bias, out],
      groups: [Math.ceil(N / t.BN), Math.ceil(M / t.BM), batches],
    });
    return out;
  }

}

export function matmulKernels(mm: MatmulKernel): Pick<Kernels, 'matmul'> {
  return { matmul: (args: MatmulArgs) => mm.run(args) };
}
