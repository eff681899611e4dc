/**
 * Conformance cases: every kernel of the contract (src/backend/kernels.ts, KERNEL_NAMES), each with inputs drawn
 * from the seeded Philox generator (`Rng`), so every runtime and every backend sees the same bits.
 *
 * Shapes cover size 1 and scalars, broadcasting, odd lengths (1, 3, 7, 17, 33, 127, and lengths that are not
 * multiples of 4 to hit SIMD tails), and empty dimensions (size 0).
 *
 * A case's `run(b)` uploads its inputs with `b.upload`, calls the kernel, frees the inputs (even when the
 * kernel throws) and returns the kernel's outputs, which the runner reads and frees. Kernels with op variants
 * (unary, binary, compare, reduce) get one row per variant, named `family:op` (e.g. `unary:exp`).
 *
 * Tolerances (the metric itself is documented in run.ts):
 * - `exact`: bit-for-bit value equality (data movement, integer and mask outputs, max/min, the uniform stream).
 *   Every i32 and u8 output is compared exactly whatever the case's kind.
 * - `elementwise`: relative error ≤ 1e-6.
 * - `reduction`: relative error ≤ 1e-5·√K, K = the reduced length (`k`).
 *
 * This module is runtime-neutral (no node: imports): it runs in Node, Deno and the browser.
 */
import type {
  AnyTypedArray, AttentionAttrs, AttentionShape, Backend, BsrStorage, CsrStorage, FanInStorage, Kernels, KernelName, PadMode, Storage,
} from '../../src/backend/kernels.ts';
import { createJsBackend } from '../../src/backend/js/backend.ts';
import { BINARY_OPS, COMPARE_OPS, REDUCE_OPS, UNARY_OPS } from '../../src/backend/kernels.ts';
import type { BinaryOp, CompareOp, ReduceOp, UnaryOp } from '../../src/backend/kernels.ts';
import { Rng } from '../../src/tensor/random.ts';

export interface Tolerance {
  kind: 'elementwise' | 'reduction' | 'exact';
  /** The reduced length K for `reduction` (the bound is 1e-5·√K). */
  k?: number;
}

export interface ConformanceCase {
  /** Row name: the kernel, or `family:op` for kernels with op variants (`unary:exp`). */
  kernel: string;
  label: string;
  /** Upload inputs, run the kernel, free the inputs; returns the outputs (the caller reads and frees them). */
  run(b: Backend): Storage[];
  tol: Tolerance;
}

/** The contract kernel a row belongs to: `unary:exp` → `unary`. */
export function baseKernel(row: string): KernelName {
  return row.split(':')[0] as KernelName;
}

// ---- seeded host data ------------------------------------------------------------------------------

/** FNV-1a 32-bit of a string: each case gets its own seed, independent of the order cases run in. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i) & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
    h ^= s.charCodeAt(i) >>> 8;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

class Data {
  readonly rng: Rng;
  constructor(key: string) {
    this.rng = new Rng(hashString(key));
  }
  /** Standard normal · scale. */
  normal(n: number, scale = 1): Float32Array {
    const z = this.rng.normal(n);
    if (scale !== 1) for (let i = 0; i < n; i++) z[i] = z[i]! * scale;
    return z;
  }
  uniform(n: number, lo: number, hi: number): Float32Array {
    const u = this.rng.uniform(n);
    for (let i = 0; i < n; i++) u[i] = lo + (hi - lo) * u[i]!;
    return u;
  }
  /** Integer-valued f32 in [lo, hi]: many exact ties. */
  intF32(n: number, lo: number, hi: number): Float32Array {
    const u = this.rng.uniform(n);
    for (let i = 0; i < n; i++) u[i] = lo + Math.min(hi - lo, Math.floor(u[i]! * (hi - lo + 1)));
    return u;
  }
  intI32(n: number, lo: number, hi: number): Int32Array {
    return Int32Array.from(this.intF32(n, lo, hi));
  }
  maskU8(n: number, p: number): Uint8Array {
    const u = this.rng.uniform(n);
    const m = new Uint8Array(n);
    for (let i = 0; i < n; i++) m[i] = u[i]! < p ? 1 : 0;
    return m;
  }
  /** Normal values with a fraction `pZero` set to exactly 0 (and a few to -0). */
  withZeros(n: number, pZero: number, scale = 1): Float32Array {
    const x = this.normal(n, scale);
    const u = this.rng.uniform(n);
    for (let i = 0; i < n; i++) if (u[i]! < pZero) x[i] = u[i]! < pZero / 4 ? -0 : 0;
    return x;
  }
}

const size = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);
const fmt = (shape: readonly number[]): string => `[${shape.join(',')}]`;

// ---- case construction -----------------------------------------------------------------------------

type HostInput = AnyTypedArray;

/**
 * A case whose inputs are host arrays: `run` uploads them, calls `call` with the storages in the same order,
 * and frees them afterwards whatever happens.
 */
function mk(
  kernel: string,
  label: string,
  tol: Tolerance,
  inputs: HostInput[],
  call: (k: Kernels, s: Storage[]) => Storage[],
): ConformanceCase {
  return {
    kernel,
    label,
    tol,
    run(b: Backend): Storage[] {
      const s: Storage[] = [];
      try {
        for (const a of inputs) s.push(b.upload(a));
        return call(b.kernels, s);
      } finally {
        for (const x of s) b.free(x);
      }
    },
  };
}

const EXACT: Tolerance = { kind: 'exact' };
const ELEM: Tolerance = { kind: 'elementwise' };
const red = (k: number): Tolerance => ({ kind: 'reduction', k });

/** Host CSR matrix; uploaded as three storages (rowPtr, colIdx, values). */
interface HostCsr {
  rows: number;
  cols: number;
  nnz: number;
  rowPtr: Int32Array;
  colIdx: Int32Array;
  values: Float32Array;
}

function hostCsr(d: Data, rows: number, cols: number, density: number, emptyRows: number[] = []): HostCsr {
  const mask = d.maskU8(rows * cols, density);
  const vals = d.normal(rows * cols);
  const rowPtr = new Int32Array(rows + 1);
  const col: number[] = [];
  const val: number[] = [];
  for (let r = 0; r < rows; r++) {
    if (!emptyRows.includes(r)) {
      for (let c = 0; c < cols; c++) {
        if (mask[r * cols + c]) {
          col.push(c);
          val.push(vals[r * cols + c]!);
        }
      }
    }
    rowPtr[r + 1] = col.length;
  }
  return { rows, cols, nnz: col.length, rowPtr, colIdx: Int32Array.from(col), values: Float32Array.from(val) };
}

const csrInputs = (m: HostCsr): HostInput[] => [m.rowPtr, m.colIdx, m.values];
const csrFrom = (m: HostCsr, s: Storage[], at: number): CsrStorage => ({
  rows: m.rows, cols: m.cols, nnz: m.nnz, rowPtr: s[at]!, colIdx: s[at + 1]!, values: s[at + 2]!,
});
const csrOut = (c: CsrStorage): Storage[] => [c.rowPtr, c.colIdx, c.values];

/** Host BSR matrix (4×4 blocks, values column-major per block); uploaded as blockPtr, blockCol, values. */
interface HostBsr {
  rows: number;
  cols: number;
  nblocks: number;
  blockPtr: Int32Array;
  blockCol: Int32Array;
  values: Float32Array;
}

/**
 * Each block kept with probability `density`, block rows in `emptyBlockRows` left empty. Every stored value is
 * random, the positions past an edge included: the products must multiply them by X's zero padding alike.
 */
function hostBsr(d: Data, rows: number, cols: number, density: number, emptyBlockRows: number[] = []): HostBsr {
  const nbr = Math.ceil(rows / 4);
  const nbc = Math.ceil(cols / 4);
  const keep = d.maskU8(nbr * nbc, density);
  const blockPtr = new Int32Array(nbr + 1);
  const col: number[] = [];
  for (let bi = 0; bi < nbr; bi++) {
    if (!emptyBlockRows.includes(bi)) for (let bj = 0; bj < nbc; bj++) if (keep[bi * nbc + bj]) col.push(bj);
    blockPtr[bi + 1] = col.length;
  }
  return { rows, cols, nblocks: col.length, blockPtr, blockCol: Int32Array.from(col), values: d.normal(16 * col.length) };
}

const bsrInputs = (m: HostBsr): HostInput[] => [m.blockPtr, m.blockCol, m.values];
const bsrFrom = (m: HostBsr, s: Storage[], at: number): BsrStorage => ({
  rows: m.rows, cols: m.cols, nblocks: m.nblocks, blockPtr: s[at]!, blockCol: s[at + 1]!, values: s[at + 2]!,
});
const bsrOut = (b: BsrStorage): Storage[] => [b.blockPtr, b.blockCol, b.values];

/**
 * Host constant fan-in matrix: a [rows, cols] mask keeping exactly k columns (drawn at random) in every row but
 * the `deadRows` (ablated neurons, kept 0); row 0, when live, always keeps column cols − 1, so the largest u16
 * index is exercised. Uploaded as liveRows, colIdx (u16 packed two per i32), values.
 */
interface HostFanIn {
  rows: number;
  cols: number;
  k: number;
  live: number;
  mask: Uint8Array;
  liveRows: Int32Array;
  colIdx: Int32Array;
  values: Float32Array;
}

function hostFanIn(d: Data, rows: number, cols: number, k: number, deadRows: number[] = []): HostFanIn {
  const mask = new Uint8Array(rows * cols);
  const live: number[] = [];
  for (let r = 0; r < rows && k > 0; r++) {
    if (deadRows.includes(r)) continue;
    live.push(r);
    // Partial Fisher–Yates over the columns: k distinct picks.
    const perm = Int32Array.from({ length: cols }, (_, j) => j);
    const u = d.rng.uniform(k);
    let first = 0;
    if (r === 0) {
      [perm[0], perm[cols - 1]] = [perm[cols - 1]!, perm[0]!];
      first = 1;
    }
    for (let t = first; t < k; t++) {
      const j = t + Math.min(cols - t - 1, Math.floor(u[t]! * (cols - t)));
      [perm[t], perm[j]] = [perm[j]!, perm[t]!];
    }
    for (let t = 0; t < k; t++) mask[r * cols + perm[t]!] = 1;
  }
  const colIdx = new Int32Array(Math.ceil((live.length * k) / 2));
  let q = 0;
  for (const r of live) {
    for (let c = 0; c < cols; c++) {
      if (mask[r * cols + c]) {
        colIdx[q >> 1]! |= c << ((q & 1) << 4);
        q++;
      }
    }
  }
  return {
    rows, cols, k, live: live.length, mask, liveRows: Int32Array.from(live), colIdx, values: d.normal(live.length * k),
  };
}

const fanInInputs = (m: HostFanIn): HostInput[] => [m.liveRows, m.colIdx, m.values];
const fanInFrom = (m: HostFanIn, s: Storage[], at: number): FanInStorage => ({
  rows: m.rows, cols: m.cols, k: m.k, live: m.live, liveRows: s[at]!, colIdx: s[at + 1]!, values: s[at + 2]!,
});
const fanInOut = (f: FanInStorage): Storage[] => [f.liveRows, f.colIdx, f.values];

// ---- creation, copies and casts ----------------------------------------------------------------------

function fillCases(): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  const specs: Array<[number, 'f32' | 'i32' | 'u8', number]> = [
    [0, 'f32', 1.5], [1, 'f32', 3.25], [3, 'f32', -0.5], [7, 'f32', 0.1], [17, 'f32', 0], [33, 'f32', -1e-30],
    [127, 'f32', 1e30], [1001, 'f32', 2.5],
    [0, 'i32', 4], [1, 'i32', 7], [7, 'i32', -3], [127, 'i32', 123456], [1001, 'i32', 0],
    [0, 'u8', 1], [1, 'u8', 1], [17, 'u8', 0], [127, 'u8', 1], [1001, 'u8', 1],
  ];
  for (const [n, dtype, v] of specs) {
    out.push(mk('fill', `${n} ${dtype} = ${v}`, EXACT, [], (k) => [k.fill(n, dtype, v)]));
  }
  return out;
}

function castCases(): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  for (const n of [0, 1, 7, 33, 127, 1001]) {
    const d = new Data(`cast ${n}`);
    const f = d.withZeros(n, 0.2, 40); // fractional, negative, zeros and -0: f32→i32 truncates toward zero
    const i = d.intI32(n, -5, 5);
    const u = d.maskU8(n, 0.5);
    out.push(mk('cast', `f32→i32 [${n}]`, EXACT, [f], (k, [x]) => [k.cast(x!, 'i32')]));
    out.push(mk('cast', `f32→u8 [${n}]`, EXACT, [f], (k, [x]) => [k.cast(x!, 'u8')]));
    out.push(mk('cast', `f32→f32 [${n}]`, EXACT, [f], (k, [x]) => [k.cast(x!, 'f32')]));
    out.push(mk('cast', `i32→f32 [${n}]`, EXACT, [i], (k, [x]) => [k.cast(x!, 'f32')]));
    out.push(mk('cast', `i32→u8 [${n}]`, EXACT, [i], (k, [x]) => [k.cast(x!, 'u8')]));
    out.push(mk('cast', `i32→i32 [${n}]`, EXACT, [i], (k, [x]) => [k.cast(x!, 'i32')]));
    out.push(mk('cast', `u8→f32 [${n}]`, EXACT, [u], (k, [x]) => [k.cast(x!, 'f32')]));
    out.push(mk('cast', `u8→i32 [${n}]`, EXACT, [u], (k, [x]) => [k.cast(x!, 'i32')]));
    out.push(mk('cast', `u8→u8 [${n}]`, EXACT, [u], (k, [x]) => [k.cast(x!, 'u8')]));
  }
  return out;
}

function randomCases(): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  // Seeds beyond 2^32 and offsets that straddle block and 2^32-block boundaries exercise the whole counter.
  const specs: Array<[number, number, number]> = [
    [0, 0, 0], [1, 7, 3], [7, 12345, 1], [17, 2 ** 40 + 3, 6], [127, 42, 2 ** 34 - 9], [1001, 99, 0],
    [4099, 2 ** 52 + 1, 123456789],
  ];
  for (const [n, seed, offset] of specs) {
    out.push(mk('random', `uniform ${n} seed ${seed} @${offset}`, EXACT, [], (k) => [
      k.random(n, 'uniform', seed, offset, 0),
    ]));
    // Box–Muller goes through log/cos (f64 libm on each side): agreement to rounding, not bits.
    out.push(mk('random', `normal ${n} seed ${seed} @${offset}`, ELEM, [], (k) => [
      k.random(n, 'normal', seed, offset, 0),
    ]));
    for (const p of [0, 0.3, 1]) {
      out.push(mk('random', `bernoulli(${p}) ${n} seed ${seed} @${offset}`, EXACT, [], (k) => [
        k.random(n, 'bernoulli', seed, offset, p),
      ]));
    }
  }
  return out;
}

// ---- elementwise ------------------------------------------------------------------------------------

const ELEMENTWISE_SIZES = [0, 1, 3, 7, 17, 33, 127, 1001, 4099];

function unaryInput(op: UnaryOp, d: Data, n: number): Float32Array {
  switch (op) {
    case 'log':
    case 'sqrt':
    case 'rsqrt':
      return d.uniform(n, 0.01, 20);
    case 'reciprocal': {
      const x = d.uniform(n, 0.05, 20);
      const s = d.maskU8(n, 0.5);
      for (let i = 0; i < n; i++) if (s[i]) x[i] = -x[i]!;
      return x;
    }
    case 'exp':
      return d.uniform(n, -20, 20);
    case 'floor': {
      const x = d.uniform(n, -10, 10);
      const ints = d.intF32(n, -5, 5);
      const m = d.maskU8(n, 0.25);
      for (let i = 0; i < n; i++) if (m[i]) x[i] = ints[i]!; // exact integers, negative included
      return x;
    }
    case 'sin':
    case 'cos':
      return d.uniform(n, -10, 10);
    case 'neg':
    case 'abs':
    case 'sign':
    case 'relu':
    case 'square':
      return d.withZeros(n, 0.15, 3);
    default: // tanh, sigmoid, gelu, elu, erf: both tails and the middle, with zeros
      return d.withZeros(n, 0.05, 3);
  }
}

const EXACT_UNARY = new Set<UnaryOp>(['neg', 'abs', 'sign', 'relu', 'floor']);

function unaryCases(): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  for (const op of UNARY_OPS) {
    const tol = EXACT_UNARY.has(op) ? EXACT : ELEM;
    for (const n of ELEMENTWISE_SIZES) {
      const x = unaryInput(op, new Data(`unary ${op} ${n}`), n);
      out.push(mk(`unary:${op}`, `[${n}]`, tol, [x], (k, [s]) => [k.unary(op, s!)]));
    }
    if (!['log', 'sqrt', 'rsqrt', 'reciprocal'].includes(op)) {
      // Hand-picked points: ±0, ±1, a wide range for the saturating functions.
      const x = Float32Array.from([0, -0, 1, -1, 0.5, -0.5, 2, -2, 4.5, -4.5, 9, -9, 15, -15, 1e-6, -1e-6, 3.14159265]);
      out.push(mk(`unary:${op}`, 'special points', tol, [x], (k, [s]) => [k.unary(op, s!)]));
    }
  }
  return out;
}

/** Broadcasting shape pairs: scalars, size 1, outer products, rank mismatch, empty dimensions. */
const BROADCAST_PAIRS: Array<[number[], number[]]> = [
  [[], []],
  [[1], [1]],
  [[7], [7]],
  [[127], [127]],
  [[1001], [1001]],
  [[127], [1]],
  [[1], [33]],
  [[5, 7], []],
  [[], [3, 17]],
  [[3, 1], [1, 5]],
  [[2, 3, 17], [17]],
  [[2, 3, 17], [3, 1]],
  [[4, 1, 33], [1, 5, 1]],
  [[2, 1, 3, 1], [4, 1, 7]],
  [[17, 33], [17, 33]],
  [[0, 3], [3]],
  [[2, 0], [1]],
  [[3, 0], [1, 0]],
];

function binaryInputs(op: BinaryOp, d: Data, na: number, nb: number): [Float32Array, Float32Array] {
  switch (op) {
    case 'pow':
      return [d.uniform(na, 0.1, 4), d.uniform(nb, -3, 3)];
    case 'div': {
      const b = d.uniform(nb, 0.1, 5);
      const s = d.maskU8(nb, 0.5);
      for (let i = 0; i < nb; i++) if (s[i]) b[i] = -b[i]!;
      return [d.normal(na, 3), b];
    }
    case 'max':
    case 'min':
      return [d.intF32(na, -3, 3), d.intF32(nb, -3, 3)]; // ties
    default:
      return [d.withZeros(na, 0.1, 3), d.withZeros(nb, 0.1, 3)];
  }
}

function binaryCases(): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  for (const op of BINARY_OPS) {
    const tol = op === 'max' || op === 'min' ? EXACT : ELEM;
    for (const [as, bs] of BROADCAST_PAIRS) {
      const [a, b] = binaryInputs(op, new Data(`binary ${op} ${fmt(as)} ${fmt(bs)}`), size(as), size(bs));
      out.push(mk(`binary:${op}`, `${fmt(as)} ${op} ${fmt(bs)}`, tol, [a, b], (k, [x, y]) => [
        k.binary(op, x!, as, y!, bs),
      ]));
    }
    if (op === 'pow') {
      // Integer exponents, including 0 and 1, on positive bases.
      const a = new Data('binary pow int').uniform(33, 0.25, 3);
      const e = Float32Array.from([0, 1, 2, 3, -1, -2, 0.5]);
      out.push(mk('binary:pow', '[33,1] pow [7] integer/half exponents', ELEM, [a, e], (k, [x, y]) => [
        k.binary('pow', x!, [33, 1], y!, [7]),
      ]));
    }
    if (op === 'add' || op === 'sub' || op === 'mul' || op === 'max' || op === 'min') {
      for (const [as, bs] of [[[3, 1], [1, 4]], [[127], [127]], [[2, 3, 5], []], [[0, 2], [2]]] as Array<[number[], number[]]>) {
        const d = new Data(`binary ${op} i32 ${fmt(as)} ${fmt(bs)}`);
        const a = d.intI32(size(as), -1000, 1000);
        const b = d.intI32(size(bs), -1000, 1000);
        out.push(mk(`binary:${op}`, `i32 ${fmt(as)} ${op} ${fmt(bs)}`, EXACT, [a, b], (k, [x, y]) => [
          k.binary(op, x!, as, y!, bs),
        ]));
      }
    }
  }
  return out;
}

function compareCases(): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  for (const op of COMPARE_OPS) {
    for (const [as, bs] of BROADCAST_PAIRS) {
      const d = new Data(`compare ${op} ${fmt(as)} ${fmt(bs)}`);
      const a = d.intF32(size(as), -2, 2);
      const b = d.intF32(size(bs), -2, 2);
      out.push(mk(`compare:${op}`, `${fmt(as)} ${op} ${fmt(bs)}`, EXACT, [a, b], (k, [x, y]) => [
        k.compare(op as CompareOp, x!, as, y!, bs),
      ]));
    }
    // Non-integer values and signed zeros (0 == -0).
    const a = Float32Array.from([0, -0, 0.1, -0.1, 1e-30, 3.5, -7.25]);
    const b = Float32Array.from([-0, 0, 0.1, 0.1, 0, 3.5, -7.5]);
    out.push(mk(`compare:${op}`, 'signed zeros and fractions [7]', EXACT, [a, b], (k, [x, y]) => [
      k.compare(op as CompareOp, x!, [7], y!, [7]),
    ]));
  }
  return out;
}

/** dropoutMask: x · (keep ? scale : 0), with ±0, ±∞ and NaN inputs among the dropped and the kept. */
function dropoutMaskCases(): ConformanceCase[] {
  return [0, 1, 7, 33, 1001].map((n) => {
    const d = new Data(`dropoutMask ${n}`);
    const x = d.withZeros(n, 0.1, 2);
    if (n >= 7) [x[1], x[2], x[3]] = [Infinity, -Infinity, NaN];
    const keep = d.maskU8(n, 0.7);
    return mk('dropoutMask', `[${n}] p 0.3`, { kind: 'elementwise' }, [x, keep], (k, [sx, sk]) => [k.dropoutMask(sx!, sk!, 1 / 0.7)]);
  });
}

function whereCases(): ConformanceCase[] {
  const specs: Array<[number[], number[], number[]]> = [
    [[], [], []],
    [[7], [7], [7]],
    [[127], [127], [1]],
    [[1001], [1], [1001]],
    [[3, 1], [1, 5], [3, 5]],
    [[], [4], [1]],
    [[2, 3, 17], [17], [2, 1, 1]],
    [[4, 1, 33], [1, 5, 1], []],
    [[0, 2], [2], [1]],
    [[3, 0], [3, 1], [0]],
  ];
  return specs.map(([cs, as, bs]) => {
    const d = new Data(`where ${fmt(cs)} ${fmt(as)} ${fmt(bs)}`);
    const c = d.maskU8(size(cs), 0.5);
    const a = d.normal(size(as));
    const b = d.normal(size(bs));
    return mk('where', `${fmt(cs)} ? ${fmt(as)} : ${fmt(bs)}`, EXACT, [c, a, b], (k, [sc, sa, sb]) => [
      k.where(sc!, cs, sa!, as, sb!, bs),
    ]);
  });
}

// ---- reductions and normalisation --------------------------------------------------------------------

/** dy·gelu'(x): gelu's test inputs (both tails, zeros), and points at the root of gelu' (x ≈ −0.7518), past
 * the f32x4 range of the wasm kernel (x < −13), at ±∞ and NaN. */
function geluBackwardCases(): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  for (const n of ELEMENTWISE_SIZES) {
    const d = new Data(`geluBackward ${n}`);
    const x = d.withZeros(n, 0.05, 3);
    const dy = d.normal(n);
    out.push(mk('geluBackward', `[${n}]`, ELEM, [dy, x], (k, [sdy, sx]) => [k.geluBackward(sdy!, sx!)]));
  }
  const x = Float32Array.from([
    0, -0, 1, -1, 0.5, -0.5, -0.75, -0.7518, -0.76, 2, -2, 4.5, -4.5, 9, -9, 13, -13, -13.2, 13.5, -13.5, 15, -15,
    -20, -25, 30, 1e-6, -1e-6, Infinity, -Infinity, NaN, 3.14159265,
  ]);
  const dy = new Data('geluBackward special points').normal(x.length);
  out.push(mk('geluBackward', 'special points', ELEM, [dy, x], (k, [sdy, sx]) => [k.geluBackward(sdy!, sx!)]));
  return out;
}

function reduceCases(): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  const specs: Array<[number[], number[]]> = [
    [[1], [0]],
    [[7], [0]],
    [[127], [0]],
    [[4099], [0]],
    [[3, 5], [0]],
    [[3, 5], [1]],
    [[3, 5], [0, 1]],
    [[2, 3, 17], [1]],
    [[2, 3, 17], [0, 2]],
    [[2, 3, 17], [2]],
    [[4, 33], [1]],
    [[33, 4], [0]],
    [[3, 1001], [1]],
    [[1, 1, 7], [0, 1]],
    [[2, 3, 4, 5], [1, 3]],
    [[0, 3], [1]],
    [[3, 0], [0]],
  ];
  for (const op of REDUCE_OPS) {
    const list = op === 'sum' ? [...specs, [[2, 0, 3], [1]] as [number[], number[]], [[0], [0]] as [number[], number[]]] : specs;
    for (const [shape, axes] of list) {
      const kLen = axes.reduce((a, ax) => a * shape[ax]!, 1);
      const tol = op === 'max' || op === 'min' ? EXACT : red(kLen);
      const d = new Data(`reduce ${op} ${fmt(shape)} ${fmt(axes)}`);
      const x = op === 'max' || op === 'min' ? d.intF32(size(shape), -50, 50) : d.normal(size(shape), 2);
      out.push(mk(`reduce:${op}`, `${fmt(shape)} axes ${fmt(axes)}`, tol, [x], (k, [s]) => [
        k.reduce(op as ReduceOp, s!, shape, axes),
      ]));
    }
  }
  return out;
}

function argmaxCases(): ConformanceCase[] {
  const specs: Array<[number[], number]> = [
    [[1], 0], [[7], 0], [[1, 1], 0], [[3, 5], 0], [[3, 5], 1], [[2, 17, 3], 1], [[4, 127], 1], [[2, 3, 33], 0],
    [[1001], 0], [[0, 5], 1], [[5, 0], 0],
  ];
  return specs.map(([shape, axis]) => {
    const x = new Data(`argmax ${fmt(shape)} ${axis}`).intF32(size(shape), -3, 3); // many ties: first wins
    return mk('argmax', `${fmt(shape)} axis ${axis}`, EXACT, [x], (k, [s]) => [k.argmax(s!, shape, axis)]);
  });
}

const LAST_AXIS_SHAPES: number[][] = [[1], [7], [4, 1], [3, 17], [2, 3, 33], [5, 127], [2, 1001], [0, 4]];

function softmaxCases(kernel: 'softmax' | 'logSoftmax'): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  for (const shape of LAST_AXIS_SHAPES) {
    const D = shape[shape.length - 1]!;
    const x = new Data(`${kernel} ${fmt(shape)}`).normal(size(shape), 2);
    out.push(mk(kernel, fmt(shape), red(D), [x], (k, [s]) => [k[kernel](s!, shape)]));
  }
  // Large logits: only a max-subtracted implementation survives.
  const big = new Data(`${kernel} big`).normal(3 * 33, 60);
  for (let i = 0; i < 33; i++) big[i] = big[i]! + 500;
  out.push(mk(kernel, '[3,33] logits ±500', red(33), [big], (k, [s]) => [k[kernel](s!, [3, 33])]));
  return out;
}

const NORM_SHAPES: number[][] = [[1, 1], [3, 7], [2, 3, 17], [4, 33], [2, 127], [3, 1001], [0, 5]];

function layerNormCases(): ConformanceCase[] {
  return NORM_SHAPES.map((shape) => {
    const D = shape[shape.length - 1]!;
    const d = new Data(`layerNorm ${fmt(shape)}`);
    const x = d.normal(size(shape), 3);
    for (let i = 0; i < x.length; i++) x[i] = x[i]! + 1.5; // non-zero mean
    const gamma = d.uniform(D, 0.5, 1.5);
    const beta = d.normal(D, 0.5);
    return mk('layerNorm', fmt(shape), red(D), [x, gamma, beta], (k, [sx, sg, sb]) => {
      const r = k.layerNorm(sx!, shape, sg!, sb!, 1e-5);
      return [r.y, r.mean, r.rstd];
    });
  });
}

/** mean and rstd per row computed on the host in f64 (so every backend gets the same saved statistics). */
function hostLayerNormStats(x: Float32Array, D: number, eps: number): [Float32Array, Float32Array] {
  const rows = D === 0 ? 0 : x.length / D;
  const mean = new Float32Array(rows);
  const rstd = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < D; j++) s += x[r * D + j]!;
    const m = s / D;
    let v = 0;
    for (let j = 0; j < D; j++) v += (x[r * D + j]! - m) ** 2;
    mean[r] = m;
    rstd[r] = 1 / Math.sqrt(v / D + eps);
  }
  return [mean, rstd];
}

function layerNormBackwardCases(): ConformanceCase[] {
  return NORM_SHAPES.map((shape) => {
    const D = shape[shape.length - 1]!;
    const rows = size(shape) / Math.max(D, 1);
    const d = new Data(`layerNormBackward ${fmt(shape)}`);
    const x = d.normal(size(shape), 2);
    const dy = d.normal(size(shape));
    const gamma = d.uniform(D, 0.5, 1.5);
    const [mean, rstd] = hostLayerNormStats(x, D, 1e-5);
    return mk(
      'layerNormBackward', fmt(shape), red(Math.max(D, rows)), [dy, x, gamma, mean, rstd],
      (k, [sdy, sx, sg, sm, sr]) => {
        const r = k.layerNormBackward(sdy!, sx!, shape, sg!, sm!, sr!);
        return [r.dx, r.dgamma, r.dbeta];
      },
    );
  });
}

function batchNormStatsCases(): ConformanceCase[] {
  const specs: Array<[number, number, number]> = [
    [1, 1, 1], [4, 3, 7], [2, 5, 17], [8, 1, 33], [1, 7, 1], [3, 2, 127], [16, 3, 1], [2, 0, 5],
  ];
  return specs.map((shape) => {
    const x = new Data(`batchNormStats ${fmt(shape)}`).normal(size(shape), 2);
    for (let i = 0; i < x.length; i++) x[i] = x[i]! + 3; // non-zero mean
    return mk('batchNormStats', fmt(shape), red(shape[0] * shape[2]), [x], (k, [s]) => {
      const r = k.batchNormStats(s!, shape);
      return [r.mean, r.variance];
    });
  });
}

// ---- matmul -----------------------------------------------------------------------------------------

interface MatmulSpec {
  /** Batch dims of a and b (broadcast against each other). */
  ba: number[];
  bb: number[];
  m: number;
  k: number;
  n: number;
  transA?: boolean;
  transB?: boolean;
  bias?: boolean;
}

function matmulCases(): ConformanceCase[] {
  const specs: MatmulSpec[] = [
    { ba: [], bb: [], m: 1, k: 1, n: 1 },
    { ba: [], bb: [], m: 3, k: 7, n: 5 },
    { ba: [], bb: [], m: 17, k: 33, n: 7 },
    { ba: [], bb: [], m: 1, k: 127, n: 1 },
    { ba: [], bb: [], m: 7, k: 17, n: 3, transA: true },
    { ba: [], bb: [], m: 7, k: 17, n: 3, transB: true },
    { ba: [], bb: [], m: 7, k: 17, n: 3, transA: true, transB: true },
    { ba: [], bb: [], m: 33, k: 5, n: 17, transB: true, bias: true },
    { ba: [], bb: [], m: 5, k: 3, n: 33, bias: true },
    { ba: [], bb: [], m: 64, k: 127, n: 65 },
    { ba: [], bb: [], m: 65, k: 129, n: 63, transA: true, transB: true, bias: true },
    { ba: [], bb: [], m: 31, k: 256, n: 17, transB: true },
    // Past one cache block in every dimension (packed GEMM paths, edge tiles).
    { ba: [], bb: [], m: 130, k: 300, n: 97 },
    { ba: [], bb: [], m: 97, k: 300, n: 130, transA: true, transB: true, bias: true },
    { ba: [2], bb: [1], m: 67, k: 161, n: 71, transB: true },
    { ba: [2], bb: [2], m: 3, k: 5, n: 4 },
    { ba: [3], bb: [], m: 7, k: 17, n: 33, transB: true },
    { ba: [], bb: [3], m: 7, k: 17, n: 33, transA: true, bias: true },
    { ba: [2, 1], bb: [3], m: 3, k: 5, n: 7 },
    { ba: [1], bb: [4], m: 3, k: 5, n: 2, transA: true, transB: true },
    { ba: [2, 3], bb: [2, 3], m: 17, k: 33, n: 1, bias: true },
    { ba: [], bb: [], m: 3, k: 0, n: 4 },
    { ba: [], bb: [], m: 3, k: 0, n: 4, bias: true },
    { ba: [], bb: [], m: 0, k: 5, n: 3 },
    { ba: [], bb: [], m: 4, k: 5, n: 0, transB: true },
    { ba: [0], bb: [1], m: 3, k: 5, n: 2 },
  ];
  return specs.map((s) => {
    const aShape = [...s.ba, ...(s.transA ? [s.k, s.m] : [s.m, s.k])];
    const bShape = [...s.bb, ...(s.transB ? [s.n, s.k] : [s.k, s.n])];
    const d = new Data(`matmul ${JSON.stringify(s)}`);
    const a = d.normal(size(aShape));
    const b = d.normal(size(bShape));
    const inputs: HostInput[] = [a, b];
    if (s.bias) inputs.push(d.normal(s.n));
    const label =
      `${fmt(aShape)}${s.transA ? 'ᵀ' : ''}·${fmt(bShape)}${s.transB ? 'ᵀ' : ''}${s.bias ? ' + bias' : ''}`;
    return mk('matmul', label, red(s.k), inputs, (k, st) => [
      k.matmul({
        a: st[0]!, b: st[1]!, aShape, bShape, transA: !!s.transA, transB: !!s.transB,
        ...(s.bias ? { bias: st[2]! } : {}),
      }),
    ]);
  });
}

// ---- indexing and data movement ----------------------------------------------------------------------

function indexSelectCases(): ConformanceCase[] {
  const specs: Array<[number[], number, number[]]> = [
    [[5, 3], 0, [4, 0, 0, 2]],
    [[5, 3], 1, [2, 2, 0, 1, 2]],
    [[1], 0, [0, 0, 0]],
    [[2, 7, 3], 1, []],
    [[4, 33], 0, [3]],
    [[2, 127], 1, []],
    [[0, 4], 1, [3, 1]],
    [[3, 4], 0, []],
  ];
  return specs.map(([shape, axis, idxIn], i) => {
    const d = new Data(`indexSelect ${i}`);
    let idx: Int32Array = Int32Array.from(idxIn);
    if (idxIn.length === 0 && shape[axis]! > 1) idx = d.intI32(17, 0, shape[axis]! - 1); // random, with repeats
    if (i === specs.length - 1) idx = new Int32Array(0); // n = 0
    const x = d.normal(size(shape));
    return mk('indexSelect', `${fmt(shape)} axis ${axis} n=${idx.length}`, EXACT, [x, idx], (k, [sx, si]) => [
      k.indexSelect(sx!, shape, axis, si!, idx.length),
    ]);
  });
}

function gatherCases(): ConformanceCase[] {
  const specs: Array<[number[], number, number[]]> = [
    [[3, 5], 1, [3, 7]],
    [[4, 3], 0, [6, 3]],
    [[1], 0, [5]],
    [[2, 3, 17], 2, [2, 3, 5]],
    [[2, 3, 17], 1, [2, 1, 17]],
    [[7, 33], 0, [1, 33]],
    [[2, 3, 4], 1, [2, 0, 4]],
  ];
  return specs.map(([shape, axis, ishape]) => {
    const d = new Data(`gather ${fmt(shape)} ${axis} ${fmt(ishape)}`);
    const x = d.normal(size(shape));
    const idx = d.intI32(size(ishape), 0, shape[axis]! - 1);
    return mk('gather', `${fmt(shape)} axis ${axis} idx ${fmt(ishape)}`, EXACT, [x, idx], (k, [sx, si]) => [
      k.gather(sx!, shape, axis, si!, ishape),
    ]);
  });
}

function scatterAddCases(): ConformanceCase[] {
  const specs: Array<[number[], number, number[]]> = [
    [[5], 0, [17]],
    [[1], 0, [7]],
    [[4, 3], 0, [9, 3]],
    [[3, 7], 1, [3, 20]],
    [[2, 3, 5], 2, [2, 3, 33]],
    [[6, 2], 0, [127, 2]],
    [[4], 0, [0]],
  ];
  return specs.map(([outShape, axis, ishape]) => {
    const d = new Data(`scatterAdd ${fmt(outShape)} ${axis} ${fmt(ishape)}`);
    const src = d.normal(size(ishape));
    const idx = d.intI32(size(ishape), 0, outShape[axis]! - 1);
    // Accumulation order is fixed (increasing src index) but the reference may differ in rounding: K ≈ hits per slot.
    const kLen = Math.ceil(ishape[axis]! / outShape[axis]!) * 2;
    return mk(
      'scatterAdd', `src ${fmt(ishape)} → ${fmt(outShape)} axis ${axis}`, red(kLen), [src, idx],
      (k, [ss, si]) => [k.scatterAdd(ss!, si!, ishape, axis, outShape)],
    );
  });
}

function topkCases(): ConformanceCase[] {
  const specs: Array<[number[], number, boolean, boolean]> = [
    [[7], 3, true, false],
    [[7], 3, false, false],
    [[1], 1, true, false],
    [[4, 1], 1, false, false],
    [[3, 17], 5, true, true],
    [[3, 17], 5, false, true],
    [[2, 33], 33, true, false],
    [[2, 33], 33, false, true],
    [[5, 127], 10, true, false],
    [[2, 1001], 17, true, true],
    [[3, 8], 0, true, false],
    [[0, 8], 2, true, false],
  ];
  return specs.map(([shape, kk, largest, ties]) => {
    const d = new Data(`topk ${fmt(shape)} ${kk} ${largest} ${ties}`);
    const x = ties ? d.intF32(size(shape), -4, 4) : d.normal(size(shape));
    return mk(
      'topk', `${fmt(shape)} k=${kk} ${largest ? 'largest' : 'smallest'}${ties ? ' ties' : ''}`, EXACT, [x],
      (k, [s]) => {
        const r = k.topk(s!, shape, kk, largest);
        return [r.values, r.indices];
      },
    );
  });
}

function cumsumCases(): ConformanceCase[] {
  const specs: Array<[number[], number, boolean]> = [
    [[1], 0, false], [[7], 0, false], [[7], 0, true], [[3, 17], 1, true], [[3, 17], 1, false],
    [[33, 3], 0, false], [[33, 3], 0, true], [[2, 5, 127], 2, false], [[2, 5, 127], 1, true], [[1001], 0, true],
    [[0, 4], 0, false], [[4, 0], 1, true],
  ];
  return specs.map(([shape, axis, reverse]) => {
    const x = new Data(`cumsum ${fmt(shape)} ${axis} ${reverse}`).normal(size(shape));
    return mk('cumsum', `${fmt(shape)} axis ${axis}${reverse ? ' reverse' : ''}`, red(shape[axis]!), [x], (k, [s]) => [
      k.cumsum(s!, shape, axis, reverse),
    ]);
  });
}

function rollCases(): ConformanceCase[] {
  const specs: Array<[number[], number, number]> = [
    [[1], 0, 3], [[7], 0, 2], [[7], 0, -13], [[3, 17], 1, -5], [[3, 17], 0, 4], [[2, 3, 5], 1, 0],
    [[2, 3, 33], 2, 33], [[127], 0, 64], [[0, 3], 0, 1], [[3, 0], 1, 2],
  ];
  return specs.map(([shape, axis, shift]) => {
    const x = new Data(`roll ${fmt(shape)} ${axis} ${shift}`).normal(size(shape));
    return mk('roll', `${fmt(shape)} axis ${axis} shift ${shift}`, EXACT, [x], (k, [s]) => [
      k.roll(s!, shape, axis, shift),
    ]);
  });
}

function padCases(): ConformanceCase[] {
  const specs: Array<[number[], Array<[number, number]>, PadMode]> = [];
  for (const mode of ['zero', 'circular', 'replicate'] as PadMode[]) {
    specs.push([[7], [[3, 3]], mode]);
    specs.push([[3, 5], [[1, 2], [0, 3]], mode]);
    specs.push([[2, 3, 17], [[0, 0], [1, 0], [2, 5]], mode]);
    specs.push([[1], [[1, 1]], mode]);
    specs.push([[2, 33], [[0, 0], [12, 12]], mode]);
    specs.push([[4, 4], [[0, 0], [0, 0]], mode]);
  }
  specs.push([[1], [[4, 5]], 'replicate']);
  specs.push([[1], [[4, 5]], 'zero']);
  specs.push([[0, 3], [[1, 1], [0, 0]], 'zero']);
  specs.push([[2, 0], [[1, 0], [0, 0]], 'replicate']);
  return specs.map(([shape, pads, mode]) => {
    const x = new Data(`pad ${fmt(shape)} ${JSON.stringify(pads)} ${mode}`).normal(size(shape));
    return mk('pad', `${fmt(shape)} ${mode} ${JSON.stringify(pads)}`, EXACT, [x], (k, [s]) => [
      k.pad(s!, shape, pads, mode),
    ]);
  });
}

function concatCases(): ConformanceCase[] {
  const specs: Array<[number[][], number]> = [
    [[[3, 5], [2, 5], [0, 5], [1, 5]], 0],
    [[[3, 1], [3, 7], [3, 17]], 1],
    [[[2, 3, 4], [2, 3, 4]], 2],
    [[[2, 3, 4], [2, 1, 4], [2, 5, 4]], 1],
    [[[7]], 0],
    [[[1], [1], [1]], 0],
    [[[127], [33]], 0],
    [[[0, 3], [0, 4]], 1],
  ];
  return specs.map(([shapes, axis]) => {
    const d = new Data(`concat ${JSON.stringify(shapes)} ${axis}`);
    const xs = shapes.map((s) => d.normal(size(s)));
    return mk('concat', `${shapes.map(fmt).join(' ++ ')} axis ${axis}`, EXACT, xs, (k, st) => [
      k.concat(st, shapes, axis),
    ]);
  });
}

function sliceCases(): ConformanceCase[] {
  const specs: Array<[number[], number[], number[]]> = [
    [[7], [2], [3]],
    [[1], [0], [1]],
    [[5, 17], [1, 3], [3, 7]],
    [[2, 3, 33], [0, 1, 5], [2, 2, 17]],
    [[2, 3, 33], [1, 0, 0], [1, 3, 33]],
    [[127], [0], [127]],
    [[5, 4], [2, 1], [0, 3]],
    [[0, 4], [0, 1], [0, 2]],
  ];
  return specs.map(([shape, begin, sz]) => {
    const x = new Data(`slice ${fmt(shape)} ${fmt(begin)} ${fmt(sz)}`).normal(size(shape));
    return mk('slice', `${fmt(shape)} from ${fmt(begin)} size ${fmt(sz)}`, EXACT, [x], (k, [s]) => [
      k.slice(s!, shape, begin, sz),
    ]);
  });
}

function permuteCases(): ConformanceCase[] {
  const specs: Array<[number[], number[]]> = [
    [[3, 5], [1, 0]], [[1, 7], [1, 0]], [[2, 3, 17], [2, 0, 1]], [[2, 3, 17], [0, 2, 1]],
    [[2, 3, 4, 5], [3, 1, 0, 2]], [[33, 127], [1, 0]], [[4, 4], [0, 1]], [[0, 3], [1, 0]], [[7], [0]],
  ];
  return specs.map(([shape, perm]) => {
    const x = new Data(`permute ${fmt(shape)} ${fmt(perm)}`).normal(size(shape));
    return mk('permute', `${fmt(shape)} perm ${fmt(perm)}`, EXACT, [x], (k, [s]) => [k.permute(s!, shape, perm)]);
  });
}

function oneHotCases(): ConformanceCase[] {
  const specs: Array<[number[], number]> = [
    [[0, 3, 1, -1, 4, 7, 2], 4], // -1, 4 and 7 are out of range: all-zero rows
    [[0], 1],
    [[], 5],
  ];
  const out = specs.map(([idx, depth]) =>
    mk('oneHot', `n=${idx.length} depth ${depth}`, EXACT, [Int32Array.from(idx)], (k, [s]) => [
      k.oneHot(s!, idx.length, depth),
    ]),
  );
  const idx = new Data('oneHot big').intI32(33, -2, 18);
  out.push(mk('oneHot', 'n=33 depth 17', EXACT, [idx], (k, [s]) => [k.oneHot(s!, 33, 17)]));
  return out;
}

// ---- convolution and pooling -------------------------------------------------------------------------

interface ConvSpec {
  N: number; Cin: number; L: number; Cout: number; K: number;
  stride: number; dilation: number; padLeft: number; padRight: number;
}

const CONV_SPECS: ConvSpec[] = [
  { N: 1, Cin: 1, L: 7, Cout: 1, K: 3, stride: 1, dilation: 1, padLeft: 0, padRight: 0 },
  { N: 2, Cin: 3, L: 17, Cout: 5, K: 3, stride: 1, dilation: 1, padLeft: 1, padRight: 1 },
  { N: 2, Cin: 4, L: 33, Cout: 3, K: 5, stride: 2, dilation: 2, padLeft: 2, padRight: 3 },
  { N: 1, Cin: 2, L: 127, Cout: 4, K: 7, stride: 3, dilation: 1, padLeft: 3, padRight: 3 },
  { N: 3, Cin: 7, L: 17, Cout: 3, K: 1, stride: 1, dilation: 1, padLeft: 0, padRight: 0 },
  { N: 2, Cin: 3, L: 33, Cout: 2, K: 3, stride: 1, dilation: 1, padLeft: 2, padRight: 0 },
  { N: 1, Cin: 1, L: 1, Cout: 2, K: 1, stride: 1, dilation: 1, padLeft: 0, padRight: 0 },
  { N: 4, Cin: 8, L: 96, Cout: 16, K: 3, stride: 1, dilation: 1, padLeft: 1, padRight: 1 },
  { N: 0, Cin: 3, L: 7, Cout: 2, K: 3, stride: 1, dilation: 1, padLeft: 1, padRight: 1 },
];

const convLout = (s: ConvSpec): number =>
  Math.floor((s.L + s.padLeft + s.padRight - s.dilation * (s.K - 1) - 1) / s.stride) + 1;

const convLabel = (s: ConvSpec): string =>
  `N${s.N} Cin${s.Cin} L${s.L} Cout${s.Cout} K${s.K} s${s.stride} d${s.dilation} p${s.padLeft}/${s.padRight}`;

function convCases(): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  for (const s of CONV_SPECS) {
    const xShape = [s.N, s.Cin, s.L];
    const wShape = [s.Cout, s.Cin, s.K];
    const lout = convLout(s);
    const dyShape = [s.N, s.Cout, lout];
    const d = new Data(`conv ${convLabel(s)}`);
    const x = d.normal(size(xShape));
    const w = d.normal(size(wShape));
    const dy = d.normal(size(dyShape));
    const attrs = { stride: s.stride, dilation: s.dilation, padLeft: s.padLeft, padRight: s.padRight };
    out.push(mk('conv1d', convLabel(s), red(s.Cin * s.K), [x, w], (k, [sx, sw]) => [
      k.conv1d({ x: sx!, xShape, w: sw!, wShape, ...attrs }),
    ]));
    out.push(mk('conv1dBackwardInput', convLabel(s), red(s.Cout * s.K), [dy, w], (k, [sdy, sw]) => [
      k.conv1dBackwardInput(sdy!, dyShape, { xShape, w: sw!, wShape, ...attrs }),
    ]));
    out.push(mk('conv1dBackwardWeight', convLabel(s), red(Math.max(1, s.N * lout)), [dy, x], (k, [sdy, sx]) => [
      k.conv1dBackwardWeight(sdy!, dyShape, { x: sx!, xShape, wShape, ...attrs }),
    ]));
  }
  return out;
}

interface PoolSpec { N: number; C: number; L: number; k: number; stride: number; pad: number }

const POOL_SPECS: PoolSpec[] = [
  { N: 1, C: 1, L: 7, k: 2, stride: 2, pad: 0 },
  { N: 2, C: 3, L: 17, k: 3, stride: 1, pad: 1 },
  { N: 2, C: 2, L: 33, k: 5, stride: 3, pad: 2 },
  { N: 1, C: 4, L: 127, k: 25, stride: 1, pad: 12 },
  { N: 3, C: 2, L: 1, k: 1, stride: 1, pad: 0 },
  { N: 1, C: 1, L: 8, k: 8, stride: 8, pad: 0 },
  { N: 0, C: 2, L: 5, k: 2, stride: 1, pad: 0 },
];

const poolLout = (p: PoolSpec): number => Math.floor((p.L + 2 * p.pad - p.k) / p.stride) + 1;
const poolLabel = (p: PoolSpec): string => `N${p.N} C${p.C} L${p.L} k${p.k} s${p.stride} p${p.pad}`;

function poolCases(): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  for (const p of POOL_SPECS) {
    const xShape = [p.N, p.C, p.L];
    const lout = poolLout(p);
    const dyShape = [p.N, p.C, lout];
    const d = new Data(`pool ${poolLabel(p)}`);
    const x = d.normal(size(xShape));
    const xTies = d.intF32(size(xShape), -2, 2);
    const dy = d.normal(size(dyShape));
    // Valid argmax positions (inside the window and inside [0, L)) for the backward kernel.
    const idx = new Int32Array(size(dyShape));
    const u = d.rng.uniform(idx.length);
    for (let r = 0; r < p.N * p.C; r++) {
      for (let o = 0; o < lout; o++) {
        const lo = Math.max(0, o * p.stride - p.pad);
        const hi = Math.min(p.L - 1, o * p.stride - p.pad + p.k - 1);
        const i = r * lout + o;
        idx[i] = lo + Math.min(hi - lo, Math.floor(u[i]! * (hi - lo + 1)));
      }
    }
    const overlap = Math.ceil(p.k / p.stride);
    out.push(mk('avgPool1d', poolLabel(p), red(p.k), [x], (k, [s]) => [
      k.avgPool1d(s!, xShape, p.k, p.stride, p.pad),
    ]));
    out.push(mk('avgPool1dBackward', poolLabel(p), red(overlap), [dy], (k, [s]) => [
      k.avgPool1dBackward(s!, dyShape, xShape, p.k, p.stride, p.pad),
    ]));
    out.push(mk('maxPool1d', poolLabel(p), EXACT, [x], (k, [s]) => {
      const r = k.maxPool1d(s!, xShape, p.k, p.stride, p.pad);
      return [r.values, r.indices];
    }));
    out.push(mk('maxPool1d', `${poolLabel(p)} ties`, EXACT, [xTies], (k, [s]) => {
      const r = k.maxPool1d(s!, xShape, p.k, p.stride, p.pad);
      return [r.values, r.indices];
    }));
    out.push(mk('maxPool1dBackward', poolLabel(p), red(overlap), [dy, idx], (k, [sdy, si]) => [
      k.maxPool1dBackward(sdy!, si!, dyShape, xShape),
    ]));
  }
  return out;
}

// ---- spectral ---------------------------------------------------------------------------------------

function fftCases(): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  const shapes: number[][] = [
    [1], [2], [3], [7], [8], [17], [33], [64], [96], [127], [3, 16], [2, 3, 100], [2, 1024], [0, 8], [4, 1],
  ];
  for (const shape of shapes) {
    const n = shape[shape.length - 1]!;
    const x = new Data(`rfft ${fmt(shape)}`).normal(size(shape));
    out.push(mk('rfft', fmt(shape), red(n), [x], (k, [s]) => [k.rfft(s!, shape)]));
  }
  for (const shape of shapes) {
    const n = shape[shape.length - 1]!;
    const m = Math.floor(n / 2) + 1;
    const inShape = [...shape.slice(0, -1), m, 2];
    // Random spectra, imaginary DC/Nyquist included: the kernel must ignore them.
    const x = new Data(`irfft ${fmt(shape)}`).normal(size(inShape));
    out.push(mk('irfft', `${fmt(inShape)} → n=${n}`, red(n), [x], (k, [s]) => [k.irfft(s!, inShape, n)]));
  }
  return out;
}

// ---- sparse -----------------------------------------------------------------------------------------

function spmmCases(): ConformanceCase[] {
  const specs: Array<[number, number, number, number, number[]]> = [
    [1, 1, 1, 1, []],
    [7, 17, 5, 0.3, [2]],
    [33, 7, 1, 0.5, [0, 32]],
    [127, 33, 17, 0.1, []],
    [64, 256, 33, 0.05, []],
    [5, 6, 7, 0, []],
    [0, 4, 3, 0.5, []],
    [4, 5, 0, 0.5, []],
  ];
  return specs.map(([m, kk, n, density, empty]) => {
    const d = new Data(`spmm ${m} ${kk} ${n} ${density}`);
    const a = hostCsr(d, m, kk, density, empty);
    const b = d.normal(kk * n);
    return mk('spmm', `[${m},${kk}] nnz ${a.nnz} × [${kk},${n}]`, red(kk), [...csrInputs(a), b], (k, s) => [
      k.spmm(csrFrom(a, s, 0), s[3]!, n),
    ]);
  });
}

function denseCsrTCases(): ConformanceCase[] {
  const specs: Array<[number, number, number, number, number[]]> = [
    [1, 1, 1, 1, []],
    [5, 17, 7, 0.3, [3]],
    [17, 33, 3, 0.5, [0]],
    [32, 127, 65, 0.1, []],
    [3, 5, 4, 0, []],
    [0, 5, 4, 0.5, []],
  ];
  return specs.flatMap(([m, kk, n, density, empty]) => {
    const d = new Data(`denseCsrT ${m} ${kk} ${n} ${density}`);
    const x = d.normal(m * kk);
    const w = hostCsr(d, n, kk, density, empty);
    const bias = d.normal(n);
    const label = `[${m},${kk}] × ([${n},${kk}] nnz ${w.nnz})ᵀ`;
    return [
      mk('denseCsrT', label, red(kk), [x, ...csrInputs(w)], (k, s) => [k.denseCsrT(s[0]!, m, csrFrom(w, s, 1))]),
      // The fused bias (the last input): one more term per output.
      mk('denseCsrT', `${label} + bias`, red(kk + 1), [x, ...csrInputs(w), bias], (k, s) => [
        k.denseCsrT(s[0]!, m, csrFrom(w, s, 1), s[s.length - 1]!),
      ]),
    ];
  });
}

function sddmmCases(): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  const dims: Array<[number, number, number, number]> = [
    [1, 1, 1, 1], [7, 17, 5, 0.3], [33, 3, 17, 0.2], [16, 127, 9, 0.5], [4, 0, 3, 0.5], [5, 4, 6, 0],
  ];
  for (const [m, kk, n, density] of dims) {
    for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const d = new Data(`sddmm ${m} ${kk} ${n} ${density} ${transA} ${transB}`);
      // aShape / bShape are the stored shapes (as in matmul); op(A) is [m, k], op(B) is [k, n].
      const aShape: [number, number] = transA ? [kk, m] : [m, kk];
      const bShape: [number, number] = transB ? [n, kk] : [kk, n];
      const a = d.normal(m * kk);
      const b = d.normal(kk * n);
      const pat = hostCsr(d, m, n, density, m > 2 ? [1] : []);
      out.push(mk(
        'sddmm', `${fmt(aShape)}${transA ? 'ᵀ' : ''}·${fmt(bShape)}${transB ? 'ᵀ' : ''} at nnz ${pat.nnz}`,
        red(kk), [a, b, ...csrInputs(pat)],
        (k, s) => [k.sddmm(s[0]!, aShape, transA, s[1]!, bShape, transB, csrFrom(pat, s, 2))],
      ));
    }
  }
  return out;
}

function denseToCsrCases(): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  const specs: Array<[number, number]> = [[1, 1], [3, 7], [17, 33], [127, 5], [0, 4], [4, 0], [5, 5]];
  for (const [rows, cols] of specs) {
    const d = new Data(`denseToCsr ${rows} ${cols}`);
    const x = d.withZeros(rows * cols, rows === 5 ? 1 : 0.6); // 5x5: all zeros
    const mask = d.maskU8(rows * cols, 0.4);
    // The caller passes nnz (counted here on the host, as the ops layer does).
    let nnzX = 0;
    let nnzM = 0;
    for (let i = 0; i < rows * cols; i++) {
      if (x[i] !== 0) nnzX++;
      if (mask[i] !== 0) nnzM++;
    }
    out.push(mk('denseToCsr', `[${rows},${cols}] nonzeros`, EXACT, [x], (k, [s]) => csrOut(k.denseToCsr(s!, rows, cols, nnzX))));
    // With a mask, masked-in zeros are stored too.
    out.push(mk('denseToCsr', `[${rows},${cols}] masked`, EXACT, [x, mask], (k, [s, m]) =>
      csrOut(k.denseToCsr(s!, rows, cols, nnzM, m!)),
    ));
  }
  return out;
}

function csrToDenseCases(): ConformanceCase[] {
  const specs: Array<[number, number, number, number[]]> = [
    [1, 1, 1, []], [3, 7, 0.4, [1]], [17, 33, 0.2, [0, 16]], [127, 5, 0.5, []], [4, 4, 0, []], [0, 3, 0.5, []],
    [3, 0, 0.5, []],
  ];
  return specs.map(([rows, cols, density, empty]) => {
    const a = hostCsr(new Data(`csrToDense ${rows} ${cols}`), rows, cols, density, empty);
    return mk('csrToDense', `[${rows},${cols}] nnz ${a.nnz}`, EXACT, csrInputs(a), (k, s) => [
      k.csrToDense(csrFrom(a, s, 0)),
    ]);
  });
}

function denseBsrTCases(): ConformanceCase[] {
  // [m, k, n, block density, empty block rows]: m < 8 (direct path), m ≥ 8 not a multiple of the 8-row panel,
  // n and k not multiples of 4 (padded edge blocks), all-zero and all-one block patterns, empty dimensions.
  const specs: Array<[number, number, number, number, number[]]> = [
    [1, 1, 1, 1, []],
    [5, 17, 7, 0.5, [1]],
    [7, 8, 12, 1, []],
    [8, 16, 16, 1, []],
    [17, 33, 9, 0.4, [0]],
    [40, 64, 32, 0.3, [2, 5]],
    [13, 12, 20, 0, []],
    [0, 5, 4, 0.5, []],
    [9, 0, 5, 1, []],
    [9, 6, 0, 1, []],
  ];
  return specs.flatMap(([m, kk, n, density, empty]) => {
    const d = new Data(`denseBsrT ${m} ${kk} ${n} ${density}`);
    const x = d.normal(m * kk);
    const w = hostBsr(d, n, kk, density, empty);
    const bias = d.normal(n);
    const label = `[${m},${kk}] × ([${n},${kk}] ${w.nblocks} blocks)ᵀ`;
    const terms = Math.ceil(kk / 4) * 4;
    return [
      mk('denseBsrT', label, red(terms), [x, ...bsrInputs(w)], (k, s) => [k.denseBsrT(s[0]!, m, bsrFrom(w, s, 1))]),
      mk('denseBsrT', `${label} + bias`, red(terms + 1), [x, ...bsrInputs(w), bias], (k, s) => [
        k.denseBsrT(s[0]!, m, bsrFrom(w, s, 1), s[s.length - 1]!),
      ]),
    ];
  });
}

/** Stored 4×4 blocks of a [rows, cols] keep pattern (any kept position stores its block). */
function bsrBlocks(keep: ArrayLike<number>, rows: number, cols: number): number {
  const nbc = Math.ceil(cols / 4);
  const seen = new Set<number>();
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) if (keep[i * cols + j] !== 0) seen.add((i >> 2) * nbc + (j >> 2));
  return seen.size;
}

function denseToBsrCases(): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  const specs: Array<[number, number]> = [[1, 1], [4, 8], [7, 13], [16, 33], [0, 4], [4, 0], [6, 6]];
  for (const [rows, cols] of specs) {
    const d = new Data(`denseToBsr ${rows} ${cols}`);
    // Mostly zeros, so some blocks are empty; 6×6: all zeros.
    const x = d.withZeros(rows * cols, rows === 6 ? 1 : 0.9);
    // Whole 4×4 blocks (the study's block pattern) and a partial mask (explicit zeros stored).
    const nbc = Math.ceil(cols / 4);
    const blocks = d.maskU8(Math.ceil(rows / 4) * nbc, 0.5);
    const whole = new Uint8Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) whole[i * cols + j] = blocks[(i >> 2) * nbc + (j >> 2)]!;
    const partial = d.maskU8(rows * cols, 0.15);
    out.push(mk('denseToBsr', `[${rows},${cols}] nonzeros`, EXACT, [x], (k, [s]) => bsrOut(k.denseToBsr(s!, rows, cols, bsrBlocks(x, rows, cols)))));
    for (const [name, mask] of [['whole-block mask', whole], ['partial mask', partial]] as const) {
      out.push(mk('denseToBsr', `[${rows},${cols}] ${name}`, EXACT, [x, mask], (k, [s, m]) =>
        bsrOut(k.denseToBsr(s!, rows, cols, bsrBlocks(mask, rows, cols), m!)),
      ));
    }
  }
  return out;
}

function bsrToDenseCases(): ConformanceCase[] {
  const specs: Array<[number, number, number, number[]]> = [
    [1, 1, 1, []], [4, 8, 0.5, [0]], [7, 13, 0.4, [1]], [17, 33, 0.2, [0, 4]], [8, 8, 1, []], [8, 8, 0, []],
    [0, 3, 0.5, []], [3, 0, 0.5, []],
  ];
  return specs.map(([rows, cols, density, empty]) => {
    const a = hostBsr(new Data(`bsrToDense ${rows} ${cols}`), rows, cols, density, empty);
    return mk('bsrToDense', `[${rows},${cols}] ${a.nblocks} blocks`, EXACT, bsrInputs(a), (k, s) => [
      k.bsrToDense(bsrFrom(a, s, 0)),
    ]);
  });
}

// [m, n_in, n_out, k, ablated rows]: k = 1 and k = n_in, ablated rows, m < 8 (direct path) and m ≥ 8 not a
// multiple of the 32-row register block nor of 4 (f32x4 and scalar tails), n_in > 256 (indices past a byte),
// the u16 limit (n_in = 65536, column 65535 used), no live row, empty dimensions.
const FAN_IN_SPECS: Array<[number, number, number, number, number[]]> = [
  [1, 1, 1, 1, []],
  [5, 17, 7, 3, [2]],
  [8, 300, 9, 1, [0]],
  [37, 300, 20, 300, [3, 4]],
  [70, 513, 40, 51, [1, 39]],
  [3, 65536, 4, 2, [1]],
  [13, 12, 5, 0, []],
  [11, 12, 5, 4, [0, 1, 2, 3, 4]],
  [0, 5, 4, 2, []],
  [9, 6, 0, 2, []],
  [9, 0, 3, 0, []],
];

function denseFanInTCases(): ConformanceCase[] {
  return FAN_IN_SPECS.flatMap(([m, kk, n, fan, dead]) => {
    const d = new Data(`denseFanInT ${m} ${kk} ${n} ${fan}`);
    const x = d.normal(m * kk);
    const w = hostFanIn(d, n, kk, fan, dead);
    const bias = d.normal(n);
    const label = `[${m},${kk}] × ([${n},${kk}] k ${fan}, ${w.live} live)ᵀ`;
    return [
      mk('denseFanInT', label, red(kk), [x, ...fanInInputs(w)], (k, s) => [k.denseFanInT(s[0]!, m, fanInFrom(w, s, 1))]),
      // Rows that are not live hold the bias alone.
      mk('denseFanInT', `${label} + bias`, red(kk + 1), [x, ...fanInInputs(w), bias], (k, s) => [
        k.denseFanInT(s[0]!, m, fanInFrom(w, s, 1), s[s.length - 1]!),
      ]),
    ];
  });
}

function denseToFanInCases(): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  for (const [, cols, rows, fan, dead] of FAN_IN_SPECS) {
    if (rows * cols > 1 << 16) continue; // the u16-limit shape is covered by the product and fanInToDense
    const d = new Data(`denseToFanIn ${rows} ${cols} ${fan}`);
    const { mask, live } = hostFanIn(d, rows, cols, fan, dead);
    // Values exactly on the mask (the nonzero pattern is the mask), and with zeros inside it (stored, when masked).
    const onMask = d.normal(rows * cols);
    for (let e = 0; e < rows * cols; e++) if (!mask[e]) onMask[e] = 0;
    const withZeros = d.withZeros(rows * cols, 0.3);
    out.push(mk('denseToFanIn', `[${rows},${cols}] k ${fan} nonzeros`, EXACT, [onMask], (k, [s]) =>
      fanInOut(k.denseToFanIn(s!, rows, cols, fan, live)),
    ));
    out.push(mk('denseToFanIn', `[${rows},${cols}] k ${fan} masked`, EXACT, [withZeros, mask], (k, [s, m]) =>
      fanInOut(k.denseToFanIn(s!, rows, cols, fan, live, m!)),
    ));
  }
  return out;
}

function fanInToDenseCases(): ConformanceCase[] {
  return FAN_IN_SPECS.map(([, cols, rows, fan, dead]) => {
    const a = hostFanIn(new Data(`fanInToDense ${rows} ${cols} ${fan}`), rows, cols, fan, dead);
    return mk('fanInToDense', `[${rows},${cols}] k ${fan}, ${a.live} live`, EXACT, fanInInputs(a), (k, s) => [
      k.fanInToDense(fanInFrom(a, s, 0)),
    ]);
  });
}

// The backward products of y = X·Wᵀ on the fan-in specs (W [n, n_in], G [m, n], X [m, n_in]): m = 0 and 1,
// ablated rows, no live row, k = 0 and k = n_in, the u16 limit, empty dimensions.
function fanInDenseCases(): ConformanceCase[] {
  return FAN_IN_SPECS.map(([m, kk, n, fan, dead]) => {
    const d = new Data(`fanInDense ${m} ${kk} ${n} ${fan}`);
    const g = d.normal(m * n);
    const w = hostFanIn(d, n, kk, fan, dead);
    return mk('fanInDense', `[${m},${n}] · [${n},${kk}] k ${fan}, ${w.live} live`, red(n), [g, ...fanInInputs(w)], (k, s) => [
      k.fanInDense(s[0]!, m, fanInFrom(w, s, 1)),
    ]);
  });
}

function fanInSddmmCases(): ConformanceCase[] {
  // Plus W's rows past one 256-row block of wasm's GEMM path (≥ 20% of W stored), ablated at the boundary.
  const specs: typeof FAN_IN_SPECS = [...FAN_IN_SPECS, [33, 40, 300, 10, [255, 256]]];
  return specs.map(([m, kk, n, fan, dead]) => {
    const d = new Data(`fanInSddmm ${m} ${kk} ${n} ${fan}`);
    const g = d.normal(m * n);
    const x = d.normal(m * kk);
    const w = hostFanIn(d, n, kk, fan, dead);
    return mk('fanInSddmm', `[${m},${n}]ᵀ · [${m},${kk}] at k ${fan}, ${w.live} live`, red(m), [g, x, ...fanInInputs(w)], (k, s) => [
      k.fanInSddmm(s[0]!, s[1]!, m, fanInFrom(w, s, 2)),
    ]);
  });
}

function bsrSddmmCases(): ConformanceCase[] {
  // [m, rows, cols, block density, empty block rows]: edges on both sides (rows / cols not multiples of 4),
  // m = 1 and m = 0, m across several packed tiles (wasm), no stored block, empty dimensions.
  const specs: Array<[number, number, number, number, number[]]> = [
    [1, 1, 1, 1, []],
    [1, 7, 5, 0.6, [0]],
    [9, 12, 17, 0.4, []],
    [33, 9, 6, 1, []],
    [70, 40, 130, 0.3, [2, 5]],
    [80, 601, 298, 0.03, []],
    [0, 8, 8, 1, []],
    [5, 12, 20, 0, []],
    [4, 0, 5, 1, []],
    [4, 6, 0, 1, []],
  ];
  return specs.map(([m, rows, cols, density, empty]) => {
    const d = new Data(`bsrSddmm ${m} ${rows} ${cols} ${density}`);
    const g = d.normal(m * rows);
    const x = d.normal(m * cols);
    const w = hostBsr(d, rows, cols, density, empty);
    return mk('bsrSddmm', `[${m},${rows}]ᵀ · [${m},${cols}] at ${w.nblocks} blocks`, red(m), [g, x, ...bsrInputs(w)], (k, s) => [
      k.bsrSddmm(s[0]!, s[1]!, m, bsrFrom(w, s, 2)),
    ]);
  });
}

function maskedTopKCases(): ConformanceCase[] {
  const specs: Array<[number, number, number | 'all', boolean]> = [
    [1, 1, 1, false],
    [7, 0.6, 2, false],
    [7, 1, 7, true],
    [127, 0.5, 30, true],
    [1001, 0.7, 100, false],
    [4099, 0.3, 'all', true],
    [33, 0.5, 0, false],
    [0, 0.5, 0, false],
  ];
  return specs.map(([n, p, kSpec, ties]) => {
    const d = new Data(`maskedTopK ${n} ${p} ${kSpec} ${ties}`);
    const x = ties ? d.intF32(n, -3, 3) : d.normal(n); // ties: equal |x| with both signs
    const cand = d.maskU8(n, p);
    let count = 0;
    for (const c of cand) count += c;
    const kk = kSpec === 'all' ? count : Math.min(kSpec, count);
    return mk('maskedTopK', `n=${n} k=${kk} of ${count}${ties ? ' ties' : ''}`, EXACT, [x, cand], (k, [sx, sc]) => [
      k.maskedTopK(sx!, sc!, kk),
    ]);
  });
}

// ---- optimizer --------------------------------------------------------------------------------------

/** Adam at its first step (bias corrections largest) and at step 1000, sizes across the SIMD tails. */
function adamCases(): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  for (const n of [0, 1, 7, 33, 127, 1001]) {
    for (const t of [1, 1000]) {
      const d = new Data(`adam ${n} t${t}`);
      const p = d.normal(n);
      const g = d.withZeros(n, 0.1, 3);
      const m = d.normal(n, 0.1);
      const v = d.uniform(n, 0, 0.05);
      const beta1 = 0.9, beta2 = 0.999, lr = 1e-3;
      const h = { beta1, beta2, eps: 1e-8, stepSize: lr / (1 - beta1 ** t), bc2Sqrt: Math.sqrt(1 - beta2 ** t) };
      out.push(mk('adam', `[${n}] t=${t}`, { kind: 'elementwise' }, [p, g, m, v], (k, [sp, sg, sm, sv]) => {
        const r = k.adam(sp!, sg!, sm!, sv!, n, h);
        return [r.p, r.m, r.v];
      }));
    }
  }
  return out;
}

// ---- fused attention ---------------------------------------------------------------------------------

const ATTENTION_SPECS: Array<[AttentionShape, AttentionAttrs]> = [
  [{ batch: 1, lq: 1, lk: 1, e: 1, ev: 1 }, { scale: 1, causal: false }],
  [{ batch: 3, lq: 7, lk: 5, e: 4, ev: 3 }, { scale: 0.5, causal: true }],
  [{ batch: 2, lq: 17, lk: 33, e: 16, ev: 16 }, { scale: 0.25, causal: false, window: 3 }],
  [{ batch: 4, lq: 37, lk: 37, e: 16, ev: 16 }, { scale: 0.25, causal: true, dropout: { p: 0.25, seed: 7, counter: 1001 } }],
  // Rows 15..19 see no key (window 2, lk 13): NaN output, −∞ statistics, zero dq.
  [{ batch: 2, lq: 20, lk: 13, e: 8, ev: 5 }, { scale: 0.3, causal: false, window: 2 }],
  [{ batch: 2, lq: 50, lk: 70, e: 64, ev: 64 }, { scale: 0.125, causal: false, dropout: { p: 0.1, seed: 3, counter: 0 } }],
  [{ batch: 3, lq: 23, lk: 19, e: 5, ev: 9 }, { scale: 0.37, causal: true, window: 4, dropout: { p: 0.5, seed: 11, counter: 2 ** 32 - 100 } }],
  [{ batch: 2, lq: 5, lk: 0, e: 3, ev: 2 }, { scale: 1, causal: false }],
  // e = 0: every score is 0 (uniform weights over the visible keys); ev = 0: empty outputs, statistics only.
  [{ batch: 2, lq: 3, lk: 4, e: 0, ev: 3 }, { scale: 1, causal: true }],
  [{ batch: 2, lq: 3, lk: 4, e: 2, ev: 0 }, { scale: 0.5, causal: false, dropout: { p: 0.5, seed: 1, counter: 3 } }],
  [{ batch: 0, lq: 3, lk: 3, e: 2, ev: 2 }, { scale: 1, causal: true }],
  // Heads interleaved in the feature axis ([B = 2, L, H = 3, width]), as the projections lay them out.
  [{ batch: 6, lq: 19, lk: 21, e: 5, ev: 7, heads: 3 }, { scale: 0.4, causal: true, dropout: { p: 0.2, seed: 5, counter: 17 } }],
  [{ batch: 4, lq: 33, lk: 33, e: 16, ev: 16, heads: 4 }, { scale: 0.25, causal: false }],
];

function attentionLabel(s: AttentionShape, a: AttentionAttrs): string {
  return `b${s.batch}${s.heads ? ` heads ${s.heads}` : ''} lq${s.lq} lk${s.lk} e${s.e} ev${s.ev} scale ${a.scale}${a.causal ? ' causal' : ''}${a.window !== undefined ? ` window ${a.window}` : ''}${a.dropout ? ` dropout ${a.dropout.p}` : ''}`;
}

function attentionInputs(s: AttentionShape, key: string): Float32Array[] {
  const d = new Data(key);
  return [d.normal(s.batch * s.lq * s.e, 1.5), d.normal(s.batch * s.lk * s.e, 1.5), d.normal(s.batch * s.lk * s.ev)];
}

function attentionCases(): ConformanceCase[] {
  return ATTENTION_SPECS.map(([s, a]) => {
    const label = attentionLabel(s, a);
    const tol = red(Math.max(s.lk, s.e, s.ev, 1));
    const inputs = attentionInputs(s, `attention ${label}`);
    // Not `mk`: a backend's record of the dropout draws (`keep`, opaque) is freed here, not compared.
    return {
      kernel: 'attention', label, tol,
      run(b: Backend): Storage[] {
        const up = inputs.map((x) => b.upload(x));
        try {
          const r = b.kernels.attention(up[0]!, up[1]!, up[2]!, s, a);
          if (r.keep) b.free(r.keep);
          return [r.out, r.rowMax, r.logSumExp];
        } finally {
          for (const x of up) b.free(x);
        }
      },
    };
  });
}

function attentionBackwardCases(): ConformanceCase[] {
  // out and logSumExp come from the js reference on the host, so every backend differentiates the same forward.
  const host = createJsBackend();
  return ATTENTION_SPECS.map(([s, a]) => {
    const label = attentionLabel(s, a);
    const [q, kk, v] = attentionInputs(s, `attention ${label}`);
    const dOut = new Data(`attentionBackward ${label}`).normal(s.batch * s.lq * s.ev);
    const up = [q!, kk!, v!].map((x) => host.upload(x));
    const f = host.kernels.attention(up[0]!, up[1]!, up[2]!, s, a);
    const out = host.readSync!(f.out).slice() as Float32Array;
    const lse = host.readSync!(f.logSumExp).slice() as Float32Array;
    for (const x of [...up, f.out, f.rowMax, f.logSumExp]) host.free(x);
    const tol = red(Math.max(s.lk, s.lq, s.e, s.ev, 1));
    return mk('attentionBackward', label, tol, [dOut, q!, kk!, v!, out, lse], (k, [g, sq, sk, sv, so, sl]) => {
      const r = k.attentionBackward(g!, sq!, sk!, sv!, so!, sl!, s, a);
      return [r.dq, r.dk, r.dv];
    });
  });
}

// ---- all ----------------------------------------------------------------------------------------------

let cached: ConformanceCase[] | null = null;

/** Every case, grouped by kernel in contract order (built once; the host data is shared by all backends). */
export function conformanceCases(): ConformanceCase[] {
  if (cached) return cached;
  cached = [
    ...fillCases(),
    ...castCases(),
    ...randomCases(),
    ...unaryCases(),
    ...binaryCases(),
    ...compareCases(),
    ...whereCases(),
    ...dropoutMaskCases(),
    ...geluBackwardCases(),
    ...reduceCases(),
    ...argmaxCases(),
    ...softmaxCases('softmax'),
    ...softmaxCases('logSoftmax'),
    ...layerNormCases(),
    ...layerNormBackwardCases(),
    ...batchNormStatsCases(),
    ...matmulCases(),
    ...attentionCases(),
    ...attentionBackwardCases(),
    ...adamCases(),
    ...indexSelectCases(),
    ...gatherCases(),
    ...scatterAddCases(),
    ...topkCases(),
    ...cumsumCases(),
    ...rollCases(),
    ...padCases(),
    ...concatCases(),
    ...sliceCases(),
    ...permuteCases(),
    ...oneHotCases(),
    ...convCases(),
    ...poolCases(),
    ...fftCases(),
    ...spmmCases(),
    ...denseCsrTCases(),
    ...sddmmCases(),
    ...denseToCsrCases(),
    ...csrToDenseCases(),
    ...maskedTopKCases(),
    ...denseBsrTCases(),
    ...denseToBsrCases(),
    ...bsrToDenseCases(),
    ...denseFanInTCases(),
    ...denseToFanInCases(),
    ...fanInToDenseCases(),
    ...fanInDenseCases(),
    ...fanInSddmmCases(),
    ...bsrSddmmCases(),
  ];
  return cached;
}

/** Row names in the order rows are reported (one per kernel, one per op variant). */
export function conformanceRowNames(): string[] {
  return [...new Set(conformanceCases().map((c) => c.kernel))];
}
