// The incremental CSR pattern (src/sparse/csr-pattern.ts): after prune / grow steps it equals a full rebuild
// from the mask, for W and Wᵀ, through empty rows and columns and all-zero / all-one masks; its gather
// positions address exactly the active entries in CSR order.
import { describe, expect, it } from 'vitest';
import { Rng } from '../src/tensor/random.ts';
import { CsrPattern, maskChanges } from '../src/sparse/csr-pattern.ts';
import { incrementalPays } from '../src/sparse/sparse-exec.ts';

function randomMask(rng: Rng, size: number, density: number): Uint8Array {
  return Uint8Array.from(rng.uniform(size), (v) => (v < density ? 1 : 0));
}

/** A topology step: drop `drop` active entries and activate `grow` inactive ones, chosen at random. */
function pruneGrow(rng: Rng, mask: Uint8Array, drop: number, grow: number): Uint8Array {
  const next = mask.slice();
  const on = [...next.keys()].filter((i) => next[i]);
  const off = [...next.keys()].filter((i) => !next[i]);
  const pick = (xs: number[], c: number) => {
    const u = rng.uniform(xs.length);
    return xs.map((x, i) => [u[i]!, x] as const).sort((a, b) => a[0] - b[0]).slice(0, c).map(([, x]) => x);
  };
  for (const i of pick(on, drop)) next[i] = 0;
  for (const i of pick(off, grow)) next[i] = 1;
  return next;
}

/** Reference: the pattern read straight off the mask (row-major W [n, k], or its transpose). */
function reference(mask: Uint8Array, n: number, k: number, transposed: boolean): { rowPtr: number[]; colIdx: number[]; positions: number[] } {
  const [rows, cols] = transposed ? [k, n] : [n, k];
  const rowPtr = [0];
  const colIdx: number[] = [];
  const positions: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const p = transposed ? c * k + r : r * k + c;
      if (mask[p]) {
        colIdx.push(c);
        positions.push(p);
      }
    }
    rowPtr.push(colIdx.length);
  }
  return { rowPtr, colIdx, positions };
}

function expectPattern(p: CsrPattern, mask: Uint8Array, n: number, k: number, transposed: boolean): void {
  const ref = reference(mask, n, k, transposed);
  expect([...p.rowPtr]).toEqual(ref.rowPtr);
  expect([...p.colIdx]).toEqual(ref.colIdx);
  expect([...p.positions()]).toEqual(ref.positions);
  expect(p.nnz).toBe(ref.colIdx.length);
}

describe.each([false, true])('CsrPattern (transposed: %s)', (transposed) => {
  it('incremental updates after prune / grow steps equal a full rebuild, and rebuild only changed rows', () => {
    const [n, k] = [37, 23];
    const rng = new Rng(4);
    let mask = randomMask(rng, n * k, 0.3);
    // An empty row and an empty column from the start.
    for (let j = 0; j < k; j++) mask[5 * k + j] = 0;
    for (let i = 0; i < n; i++) mask[i * k + 7] = 0;
    const p = CsrPattern.fromMask(mask, n, k, transposed);
    expectPattern(p, mask, n, k, transposed);
    for (const [drop, grow] of [[10, 10], [40, 0], [0, 25], [1, 1], [0, 0]] as const) {
      const next = pruneGrow(rng, mask, drop, grow);
      const changedRows = new Set<number>();
      for (let i = 0; i < next.length; i++) if (next[i] !== mask[i]) changedRows.add(transposed ? i % k : Math.floor(i / k));
      expect(p.update(mask, next)).toBe(changedRows.size);
      expectPattern(p, next, n, k, transposed);
      mask = next;
    }
  });

  it('handles all-zero and all-one masks and the switches between them', () => {
    const [n, k] = [6, 9];
    const zero = new Uint8Array(n * k);
    const one = new Uint8Array(n * k).fill(1);
    const p = CsrPattern.fromMask(zero, n, k, transposed);
    expectPattern(p, zero, n, k, transposed);
    p.update(zero, one);
    expectPattern(p, one, n, k, transposed);
    p.update(one, zero);
    expectPattern(p, zero, n, k, transposed);
  });

  it('refuses masks of the wrong size, naming both sizes', () => {
    expect(() => CsrPattern.fromMask(new Uint8Array(5), 2, 3, transposed)).toThrow(/mask has 5 entries, the weight \[2, 3\] has 6/);
    const p = CsrPattern.fromMask(new Uint8Array(6), 2, 3, transposed);
    expect(() => p.update(new Uint8Array(6), new Uint8Array(7))).toThrow(/CsrPattern.update: masks of 6 and 7 entries for a weight \[2, 3\]/);
  });
});

describe('maskChanges', () => {
  it('lists the differing positions in order, aligned or not, through lengths that are not multiples of 4', () => {
    const rng = new Rng(9);
    for (const len of [0, 1, 3, 4, 17, 1001]) {
      const a = randomMask(rng, len + 3, 0.3);
      const b = a.slice();
      const u = rng.uniform(b.length);
      for (let i = 0; i < b.length; i++) if (u[i]! < 0.05 || i === b.length - 1) b[i] = 1 - b[i]!;
      for (const off of [0, 1, 3]) {
        const x = a.subarray(off, off + len);
        const y = b.subarray(off, off + len);
        const want = [...x.keys()].filter((i) => x[i] !== y[i]);
        expect([...maskChanges(x, y)], `len ${len} offset ${off}`).toEqual(want);
      }
    }
    expect(() => maskChanges(new Uint8Array(4), new Uint8Array(5))).toThrow(/maskChanges: masks of 4 and 5 entries/);
  });

  it('one diff applied to W\'s and Wᵀ\'s patterns gives both rebuilds; out-of-order changes are refused', () => {
    const [n, k] = [19, 13];
    const rng = new Rng(12);
    const mask = randomMask(rng, n * k, 0.4);
    const next = pruneGrow(rng, mask, 12, 9);
    const w = CsrPattern.fromMask(mask, n, k);
    const wt = CsrPattern.fromMask(mask, n, k, true);
    const ch = maskChanges(mask, next);
    w.applyChanges(ch, next);
    wt.applyChanges(ch, next);
    expectPattern(w, next, n, k, false);
    expectPattern(wt, next, n, k, true);
    expect(() => w.applyChanges(Int32Array.from([5, 3]), next)).toThrow(/change 1 is position 3; positions must be ascending inside \[0, 247\)/);
  });
});

describe('incrementalPays (sparse execution picks the cheaper pattern update)', () => {
  it('merges small topology changes on real layers and rebuilds after large ones or on tiny layers', () => {
    const nnz = 0.3 * 512 * 2048;
    expect(incrementalPays(0.02 * nnz, nnz, 512 * 2048)).toBe(true);
    expect(incrementalPays(0.2 * nnz, nnz, 512 * 2048)).toBe(false);
    expect(incrementalPays(2, 300, 32 * 32)).toBe(false);
  });
});
