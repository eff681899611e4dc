import v8 from 'node:v8';
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
import { createWasmBackendSync, relaxedSimdSupported } from './src/backend/wasm/backend.ts';
console.log('supported', relaxedSimdSupported());
const be = createWasmBackendSync({ relaxed: true });
console.log('relaxed', be.rt.relaxed);
