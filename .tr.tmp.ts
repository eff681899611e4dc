import { createWasmBackendSync } from './src/backend/wasm/backend.ts';
const be = createWasmBackendSync();
const rt = be.rt;
for (const [r, c] of [[3072, 512], [512, 3072], [1024, 1024]]) {
  const a = rt.alloc(r * c, 'f32'); const b = rt.alloc(r * c, 'f32');
  const f = () => (rt.exports.sparseTranspose as any)(a.ptr, r, c, b.ptr);
  f(); f(); f();
  const t: number[] = []; for (let i = 0; i < 9; i++) { const t0 = performance.now(); f(); t.push(performance.now() - t0); } t.sort((x, y) => x - y);
  console.log(r, c, t[4]!.toFixed(3), 'ms', (r * c * 8 / t[4]! / 1e6).toFixed(1), 'GB/s');
}
