/**
 * Runtime-neutral check of the wasm thread pool (no node: imports; run by test/deno/threads.ts and, inside a
 * browser Worker, by test/browser/threads-worker.ts): the shared-memory build on 2 threads with every kernel
 * split (threadSplitAll) against the single-threaded build, on GEMMs (row, column and batch splits), a CSR
 * product, elementwise and row kernels and the tiny training run (loss bits and parameter hash). Returns the
 * thread count the pool really ran with and the names of the outputs whose bytes differed.
 */
import { createWasmBackend, type WasmBackend } from '../../src/backend/wasm/backend.ts';
import type { Storage } from '../../src/backend/kernels.ts';
import { tinyRun } from './tiny-run.ts';

export interface ThreadsCheck {
  threads: number;
  checks: number;
  mismatches: string[];
}

function randn(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}

export async function threadsCheck(): Promise<ThreadsCheck> {
  const one = await createWasmBackend();
  const two = await createWasmBackend({ threads: 2, threadSplitAll: true });
  const mismatches: string[] = [];
  let checks = 0;
  const same = (what: string, fn: (b: WasmBackend) => Storage): void => {
    const read = (b: WasmBackend) => {
      const s = fn(b);
      const v = b.readSync(s);
      b.free(s);
      return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    };
    const r = read(one);
    const g = read(two);
    checks++;
    if (r.length !== g.length || r.some((x, i) => x !== g[i])) mismatches.push(what);
  };
  try {
    // Rows (n small), batches, columns (n ≥ 2·NC).
    for (const [m, n, k, batch] of [[67, 45, 130, 1], [96, 96, 64, 6], [40, 2100, 33, 1]] as const) {
      const a = randn(batch * m * k, 1);
      const b = randn(batch * k * n, 2);
      same(`matmul ${batch}x${m}x${n}x${k}`, (be) => {
        const sa = be.upload(a);
        const sb = be.upload(b);
        const out = be.kernels.matmul({ a: sa, aShape: [batch, m, k], b: sb, bShape: [batch, k, n], transA: false, transB: false });
        be.free(sa);
        be.free(sb);
        return out;
      });
    }
    const x = randn(40 * 30, 3);
    same('spmm', (be) => {
      const sx = be.upload(x);
      const csr = be.kernels.denseToCsr(sx, 40, 30, 1200);
      const sb = be.upload(randn(30 * 17, 4));
      const out = be.kernels.spmm(csr, sb, 17);
      [sx, sb, csr.rowPtr, csr.colIdx, csr.values].forEach((s) => be.free(s));
      return out;
    });
    same('gelu', (be) => {
      const sx = be.upload(x);
      const out = be.kernels.unary('gelu', sx);
      be.free(sx);
      return out;
    });
    same('softmax', (be) => {
      const sx = be.upload(x);
      const out = be.kernels.softmax(sx, [40, 30]);
      be.free(sx);
      return out;
    });
    const t1 = await tinyRun(one);
    const t2 = await tinyRun(two);
    checks++;
    if (t1.paramHash !== t2.paramHash || t1.lossBits.join() !== t2.lossBits.join()) {
      mismatches.push(`tiny run: ${t1.paramHash} ${t1.finalLossBits} vs ${t2.paramHash} ${t2.finalLossBits}`);
    }
    return { threads: two.threads, checks, mismatches };
  } finally {
    two.dispose();
  }
}
