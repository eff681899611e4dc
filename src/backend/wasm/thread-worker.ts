/**
 * The program each worker of the wasm thread pool (threads.ts) runs, as JavaScript source text.
 *
 * Why a string: the worker must start the same way under Node and Deno (node:worker_threads, `eval: true`) and
 * in browsers (module Worker from a blob URL), from the TypeScript sources (tsx, vitest),
 * from the esbuild bundles and from the demo page, without a separate file to locate at run time. It imports
 * nothing, so the text is complete as written. (A plain template literal, no backslashes or substitutions: an
 * untagged literal is what lets bundlers drop it from builds that never start a pool, e.g. sparsecast/infer.)
 *
 * What it does: on its first message ({ module, memory, control, slot, scratch, names }) it instantiates the
 * shared-memory kernel module on the shared memory, points the instance's kernel scratch at its own block
 * (setThreadScratch), answers 'ready', and then never returns to its event loop: it blocks on the control
 * block (Atomics.wait) for the next job, runs the export named by its slot with its slot's arguments, records
 * an error message if that throws, and counts itself done. The layout constants are shared with threads.ts
 * through the `layout` field of the first message, so the two sides cannot disagree.
 *
 * Instantiating writes the module's data segments (constant tables, zeroed static scratch) into the shared
 * memory again; that is harmless only because the pool starts every worker before the backend runs any
 * kernel, and never starts one later.
 */
export const WORKER_SOURCE = `
'use strict';
// Started by node:worker_threads (Node, and Deno's implementation of it) or as a web Worker (browsers).
const isNode = typeof WorkerGlobalScope === 'undefined' && typeof process === 'object' && process !== null &&
  !!(process.versions && process.versions.node);
let port = null;
function start(init) {
  const L = init.layout;
  const ctl = new Int32Array(init.control, 0, L.ints);
  const args = new Float64Array(init.control, L.argsByteOffset, L.argsPerSlot * L.slots);
  const err = new Uint8Array(init.control, L.errByteOffset, L.errBytes * L.slots);
  const inst = new WebAssembly.Instance(init.module, { env: { memory: init.memory } });
  const ex = inst.exports;
  ex.setThreadScratch(init.scratch);
  const fns = init.names.map((n) => ex[n]);
  const s = init.slot;
  const slot = L.header + s * L.slotInts;
  const argBase = s * L.argsPerSlot;
  const enc = new TextEncoder();
  // Read the job counter before saying ready: the pool may post the first job as soon as it hears from us.
  let seen = Atomics.load(ctl, L.GEN);
  port.postMessage({ ready: true });
  for (;;) {
    // Spin briefly before sleeping: kernels of a training step come back to back, and waking a sleeping
    // thread costs microseconds on idle cores (tens of them, or more, on busy ones).
    let g = seen;
    for (let i = 0; i < L.spin && (g = Atomics.load(ctl, L.GEN)) === seen; i++);
    while (g === seen) {
      Atomics.wait(ctl, L.GEN, seen);
      g = Atomics.load(ctl, L.GEN);
    }
    seen = g;
    if (Atomics.load(ctl, L.STOP) !== 0) break;
    const fi = ctl[slot + L.FN];
    if (fi >= 0) {
      try {
        const f = fns[fi];
        if (typeof f !== 'function') throw new Error('kernel export #' + fi + ' (' + init.names[fi] + ') is missing');
        const n = ctl[slot + L.ARGC];
        const a = new Array(n);
        for (let i = 0; i < n; i++) a[i] = args[argBase + i];
        f.apply(null, a);
        ctl[slot + L.STATUS] = 0;
      } catch (e) {
        const bytes = enc.encode(String((e && e.message) || e)).subarray(0, L.errBytes);
        err.set(bytes, s * L.errBytes);
        ctl[slot + L.ERRLEN] = bytes.length;
        ctl[slot + L.STATUS] = 1;
      }
    }
    if (Atomics.sub(ctl, L.PENDING, 1) === 1) Atomics.notify(ctl, L.PENDING);
  }
  if (isNode) port.close();
  else self.close();
}
const onFirst = (ev) => {
  const init = isNode ? ev : ev.data;
  if (isNode) port.off('message', onFirst);
  else self.onmessage = null;
  try {
    start(init);
  } catch (e) {
    port.postMessage({ error: String((e && e.message) || e) });
  }
};
// import() rather than require: Node runs an eval worker as CommonJS or as ESM depending on the parent's flags.
if (isNode) {
  import('node:worker_threads').then((wt) => {
    port = wt.parentPort;
    port.on('message', onFirst);
  });
} else {
  port = self;
  self.onmessage = onFirst;
}
`;
