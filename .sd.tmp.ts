import { createWasmBackendSync } from './src/backend/wasm/backend.ts';
const be = createWasmBackendSync();
function rnd(n: number) { const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = Math.random() - 0.5; return a; }
function time(f: () => void, reps = 7) { f(); f(); const t: number[] = []; for (let i = 0; i < reps; i++) { const t0 = performance.now(); f(); t.push(performance.now() - t0); } t.sort((a, b) => a - b); return t[reps >> 1]!; }
const m = 3072, n = 512, k = 512;
for (const dens of [0.1, 0.3]) {
  const pat = be.kernels.denseToCsr(be.upload(rnd(m * n)), m, n, be.upload(Uint8Array.from({ length: m * n }, () => (Math.random() < dens ? 1 : 0))));
  const A = be.upload(rnd(m * k)), B = be.upload(rnd(n * k));
  for (const [tA, tB] of [[false, true], [false, false], [true, true]] as const) {
    const t = time(() => be.free(be.kernels.sddmm(A, tA ? [k, m] : [m, k], tA, B, tB ? [n, k] : [k, n], tB, pat)));
    console.log(`sddmm dens ${dens} tA=${tA} tB=${tB}: ${t.toFixed(2)} ms, ${(2 * pat.nnz * k / t / 1e6).toFixed(1)} GFLOP/s useful`);
  }
}
