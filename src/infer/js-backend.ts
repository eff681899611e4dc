/**
 * The plain-TypeScript kernels for `backend: 'js'`, loaded on demand (bundled as dist/infer-js.js), so the
 * default wasm path does not ship them.
 */
export { createJsBackend } from '../backend/js/backend.ts';
