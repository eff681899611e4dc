/**
 * Kernel profiler: wraps a backend's kernels to count calls and wall time per kernel (and per variant for
 * unary/binary/compare/reduce). A development tool for finding where a step spends its time; on WebGPU it
 * measures enqueue time only.
 */
import type { Backend, Kernels } from './kernels.ts';

export interface KernelStat {
  calls: number;
  ms: number;
}

export function profileBackend(backend: Backend): { stats: Map<string, KernelStat>; restore: () => void; report: () => string } {
  const stats = new Map<string, KernelStat>();
  const k = backend.kernels as unknown as Record<string, (...a: unknown[]) => unknown>;
  const originals = new Map<string, (...a: unknown[]) => unknown>();
  for (const name of Object.keys(k)) {
    const fn = k[name]!;
    originals.set(name, fn);
    k[name] = (...args: unknown[]) => {
      const key = ['unary', 'binary', 'compare', 'reduce'].includes(name) ? `${name}:${String(args[0])}` : name;
      const t0 = performance.now();
      const r = fn.apply(backend.kernels, args);
      const s = stats.get(key) ?? { calls: 0, ms: 0 };
      s.calls++;
      s.ms += performance.now() - t0;
      stats.set(key, s);
      return r;
    };
  }
  return {
    stats,
    restore: () => {
      for (const [name, fn] of originals) k[name] = fn;
    },
    report: () => {
      const rows = [...stats].sort((a, b) => b[1].ms - a[1].ms);
      const total = rows.reduce((a, [, s]) => a + s.ms, 0);
      return rows.map(([n, s]) => `${n.padEnd(28)} ${String(s.calls).padStart(6)} calls ${s.ms.toFixed(1).padStart(9)} ms ${((100 * s.ms) / total).toFixed(1).padStart(5)}%`).join('\n') + `\ntotal kernel time ${total.toFixed(1)} ms`;
    },
  };
}
