import { createWasmBackendSync } from './src/backend/wasm/backend.ts';
const be = createWasmBackendSync();
function rnd(n: number) { const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = Math.random() - 0.5; return a; }
function time(f: () => void, reps = 7) { f(); f(); const t: number[] = []; for (let i = 0; i < reps; i++) { const t0 = performance.now(); f(); t.push(performance.now() - t0); } t.sort((a, b) => a - b); return t[reps >> 1]!; }
const n = 512, k = 512, m = 3072;
for (const dens of [0.1, 0.3]) {
  // W [n, k] sparse
  const wd = rnd(n * k).map((v) => (Math.random() < dens ? v : 0));
  const W = be.kernels.denseToCsr(be.upload(wd), n, k);
  const X = be.upload(rnd(m * k));
  const t1 = time(() => be.free(be.kernels.denseCsrT(X, m, W)));
  const nnzFlops = 2 * m * W.nnz;
  const Wd = be.upload(wd);
  const t2 = time(() => be.free(be.kernels.matmul({ a: X, b: Wd, aShape: [m, k], bShape: [n, k], transA: false, transB: true })));
  // spmm: A csr [n,k] x B [k, m]
  const B = be.upload(rnd(k * m));
  const t3 = time(() => be.free(be.kernels.spmm(W, B, m)));
  const t4 = time(() => be.free(be.kernels.sddmm(X, [m, k], false, Wd, [n, k], true, be.kernels.denseToCsr(be.upload(rnd(m*n).map(v=>Math.random()<dens?1:0)), m, n))) , 3);
  const x = be.upload(rnd(m * k)); const cand = be.upload(new Uint8Array(m * k).fill(1));
  const t5 = time(() => be.free(be.kernels.maskedTopK(x, cand, (m * k * dens) | 0)));
  const t6 = time(() => { const c = be.kernels.denseToCsr(x, m, k); be.free(c.rowPtr); be.free(c.colIdx); be.free(c.values); });
  console.log(`dens ${dens}: denseCsrT ${t1.toFixed(2)}ms (${(nnzFlops / t1 / 1e6).toFixed(1)} GFLOP/s useful) vs dense matmul ${t2.toFixed(2)}ms; spmm ${t3.toFixed(2)}ms (${(nnzFlops / t3 / 1e6).toFixed(1)}); sddmm(incl csr build) ${t4.toFixed(1)}ms; maskedTopK ${m*k} ${t5.toFixed(2)}ms; denseToCsr ${t6.toFixed(2)}ms`);
}
