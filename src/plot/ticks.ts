/**
 * Axis ticks people can read: steps of 1, 2 or 5 × 10ⁿ, chosen so that about `target` ticks cover [lo, hi], and
 * labels printed with just the digits that step needs (0.25, 0.5, 0.75 — not 0.2499999). Shared by the CLI's
 * SVG plots, the HTML report and the browser demo (pure: no DOM, no Node).
 */

export interface Ticks {
  /** Tick values, ascending, from the first multiple of `step` ≥ lo to the last ≤ hi (inclusive of both ends when they land on one). */
  values: number[];
  step: number;
  /** Axis range rounded outward to whole steps: [values[0], values.at(-1)] widened to contain lo and hi. */
  lo: number;
  hi: number;
}

/** The 1-2-5 step nearest to span / target. */
export function niceStep(span: number, target = 5): number {
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  // Thresholds at the geometric means of neighbouring steps (√2, √10, √50), so the tick count is nearest target.
  const nice = f < Math.SQRT2 ? 1 : f < Math.sqrt(10) ? 2 : f < Math.sqrt(50) ? 5 : 10;
  return nice * mag;
}

/** Ticks for a data range; `lo`/`hi` of the result are the range widened outward to whole steps. */
export function niceTicks(lo: number, hi: number, target = 5): Ticks {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { values: [], step: 1, lo: 0, hi: 1 };
  if (lo > hi) [lo, hi] = [hi, lo];
  if (lo === hi) {
    // One value: a unit-wide window around it at its own scale.
    const s = niceStep(Math.abs(lo) || 1, 2);
    lo -= s;
    hi += s;
  }
  const step = niceStep(hi - lo, target);
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const values: number[] = [];
  for (let k = first; k <= last; k++) values.push(roundTo(k * step, step));
  return { values, step, lo: values[0]!, hi: values[values.length - 1]! };
}

/** A tick value as text with the decimals its step needs (k·step computed in floating point carries noise). */
export function tickLabel(v: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const abs = Math.abs(v);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-4)) return v.toExponential(Math.max(0, Math.min(6, Math.round(Math.log10(abs) - Math.log10(step)))));
  return (Object.is(v, -0) ? 0 : v).toFixed(decimals);
}

function roundTo(v: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return decimals > 15 ? v : +v.toFixed(decimals);
}

/** "prefix: rest", or just "rest" when the prefix is empty (no titles that start with ": "). */
export function titled(prefix: string | undefined, rest: string): string {
  return prefix && prefix.trim() ? `${prefix}: ${rest}` : rest;
}
