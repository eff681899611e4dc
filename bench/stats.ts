/** Timing helpers for benches: warm-up, then the median of repeated runs. */
export async function medianMs(fn: () => unknown | Promise<unknown>, opts: { warmup?: number; runs?: number } = {}): Promise<number> {
  const warmup = opts.warmup ?? 1;
  const runs = Math.max(5, opts.runs ?? 5);
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  return times.length % 2 ? times[mid]! : (times[mid - 1]! + times[mid]!) / 2;
}

export function emit(json: boolean, record: Record<string, unknown>): void {
  if (json) console.log(JSON.stringify(record));
  else console.log(Object.entries(record).map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(3) : v !== null && typeof v === 'object' ? JSON.stringify(v) : v}`).join('  '));
}

/** n uniform values in [−0.5, 0.5) from a seeded LCG: cheap, reproducible bench operands. */
export function random(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}
