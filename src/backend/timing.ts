/**
 * What the run-time measurements share (the GEMM blocking trial, the sparse path trials and the whole-model
 * guard): one clock and one kind of trial operand.
 */

/**
 * Process CPU time in ms where the runtime has it (Node, Deno's Node compatibility), else wall time: on a
 * shared machine other processes inflate wall time but not the CPU time of a single-threaded kernel. (Pure: a
 * bundle that never measures drops it.)
 */
export const cpuClock: () => number = /* @__PURE__ */ (() => {
  const p = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process;
  if (p?.cpuUsage) {
    const cu = p.cpuUsage.bind(p);
    return () => {
      const u = cu();
      return (u.user + u.system) / 1000;
    };
  }
  return () => performance.now();
})();

/**
 * Trial operands: `size` values uniform in [−0.5, 0.5) from a linear congruential generator seeded by `seed`
 * — the same data on every run, and no draw from the model's seeded generator (a trial must not move it).
 */
export function trialData(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}
