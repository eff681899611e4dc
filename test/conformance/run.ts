/**
 * The conformance runner: every case of cases.ts on a backend and on the reference (`js`), compared output by
 * output. Runtime-neutral (no node: imports): Node, Deno and the browser all run this file.
 *
 * Error metric, per f32 output element i (ref = the reference's output, s = RMS of that whole reference output):
 *
 *     err_i = |out_i − ref_i| / max(|ref_i|, s)
 *
 * i.e. relative error, with an absolute floor of s for values near 0 (cancellation in a sum, sin near π, the
 * tail of gelu: an element small compared to the typical magnitude of its output is judged on that magnitude,
 * not on itself). Two NaNs agree; an infinity must be matched by the same infinity; NaN/∞ against a finite
 * value is an infinite error. Limits per case tolerance kind:
 *
 *     exact        err = 0 (values equal; −0 equals 0)
 *     elementwise  err ≤ 1e-6
 *     reduction    err ≤ 1e-5 · √max(K, 1), K = the reduced length
 *
 * i32 and u8 outputs must match exactly whatever the kind. Outputs must agree in count, dtype and size.
 * A row is one kernel (or op variant, e.g. `unary:exp`) on one backend; `maxRelErr` is the worst err over its
 * cases, `worst` names that case. A kernel the backend lacks gives `error: "missing kernel X"`; a kernel that
 * throws gives its message; a case that leaves storage allocated (bytesInUse not back to where it started) fails
 * with "leaked N bytes".
 */
import type { AnyTypedArray, Backend, Storage } from '../../src/backend/kernels.ts';
import { KERNEL_NAMES } from '../../src/backend/kernels.ts';
import { baseKernel, conformanceCases } from './cases.ts';
import type { ConformanceCase, Tolerance } from './cases.ts';

export interface Row {
  kernel: string;
  backend: string;
  runtime: string;
  /** Cases run (all of the row's cases when ok). */
  cases: number;
  maxRelErr: number;
  ok: boolean;
  error?: string;
  /** Label of the case with the largest error relative to its limit. */
  worst?: string;
  /** Limit of that case. */
  limit?: number;
  /**
   * FNV-1a 32 (hex) over the raw bytes of every output of the backend under test, all cases in order (NaNs
   * canonicalised: WebAssembly leaves NaN payloads unspecified). Equal across runtimes when a backend is
   * bit-reproducible, which is what the Deno and Chromium tests check against Node.
   */
  hash?: string;
}

export function toleranceLimit(tol: Tolerance): number {
  if (tol.kind === 'exact') return 0;
  if (tol.kind === 'elementwise') return 1e-6;
  return 1e-5 * Math.sqrt(Math.max(tol.k ?? 1, 1));
}

function dtypeOf(a: AnyTypedArray): string {
  return a instanceof Float32Array ? 'f32' : a instanceof Int32Array ? 'i32' : 'u8';
}

interface Comparison {
  err: number;
  /** First element over the limit, described; null when within the limit. */
  failure: string | null;
}

/** Compare one output against the reference with the metric documented above. */
export function compareOutput(out: AnyTypedArray, ref: AnyTypedArray, limit: number): Comparison {
  if (dtypeOf(out) !== dtypeOf(ref)) {
    return { err: Infinity, failure: `dtype ${dtypeOf(out)}, reference ${dtypeOf(ref)}` };
  }
  if (out.length !== ref.length) {
    return { err: Infinity, failure: `${out.length} elements, reference ${ref.length}` };
  }
  const exact = limit === 0 || !(ref instanceof Float32Array);
  let sq = 0;
  let finite = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i]!;
    if (Number.isFinite(r)) {
      sq += r * r;
      finite++;
    }
  }
  const rms = finite > 0 ? Math.sqrt(sq / finite) : 0;
  const floor = rms > 0 ? rms : Number.MIN_VALUE;
  let worst = 0;
  let failure: string | null = null;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i]!;
    const o = out[i]!;
    let e: number;
    if (Number.isNaN(r) && Number.isNaN(o)) e = 0;
    else if (r === Infinity || r === -Infinity || o === Infinity || o === -Infinity) e = r === o ? 0 : Infinity;
    else if (Number.isNaN(r) || Number.isNaN(o)) e = Infinity;
    else e = r === o ? 0 : Math.abs(o - r) / Math.max(Math.abs(r), floor);
    if (e > worst) worst = e;
    if (failure === null && (exact ? e !== 0 : e > limit)) {
      failure = `element ${i}: got ${o}, reference ${r} (err ${e.toExponential(2)}, limit ${limit.toExponential(2)})`;
    }
  }
  return { err: worst, failure };
}

const FNV32_OFFSET = 0x811c9dc5;

/** Fold the bytes of `a` into an FNV-1a 32 state (little-endian element bytes; NaN as 0x7fc00000). */
function fnvFold(h: number, a: AnyTypedArray): number {
  if (a instanceof Uint8Array) {
    for (let i = 0; i < a.length; i++) h = Math.imul(h ^ a[i]!, 0x01000193);
    return h >>> 0;
  }
  const words = a instanceof Float32Array ? new Uint32Array(a.buffer, a.byteOffset, a.length) : a;
  for (let i = 0; i < a.length; i++) {
    let w = words[i]! >>> 0;
    if (a instanceof Float32Array && Number.isNaN(a[i]!)) w = 0x7fc00000;
    h = Math.imul(h ^ (w & 0xff), 0x01000193);
    h = Math.imul(h ^ ((w >>> 8) & 0xff), 0x01000193);
    h = Math.imul(h ^ ((w >>> 16) & 0xff), 0x01000193);
    h = Math.imul(h ^ (w >>> 24), 0x01000193);
  }
  return h >>> 0;
}

function describeError(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

/** Run one case on one backend: outputs read back and freed; the storage balance is checked. */
function runCase(c: ConformanceCase, b: Backend): AnyTypedArray[] {
  const before = b.bytesInUse();
  const outs: Storage[] = c.run(b);
  let values: AnyTypedArray[];
  try {
    if (!b.readSync) throw new Error(`backend '${b.name}' has no readSync; use runConformanceAsync`);
    // Copy: a view into wasm memory is detached or overwritten by later allocations.
    values = outs.map((s) => b.readSync!(s).slice());
  } finally {
    for (const s of outs) b.free(s);
  }
  const after = b.bytesInUse();
  if (after !== before) throw new Error(`leaked ${after - before} bytes (bytesInUse ${before} → ${after})`);
  return values;
}

async function runCaseAsync(c: ConformanceCase, b: Backend): Promise<AnyTypedArray[]> {
  const before = b.bytesInUse();
  const outs: Storage[] = c.run(b);
  let values: AnyTypedArray[];
  try {
    values = [];
    for (const s of outs) values.push((await b.read(s)).slice());
  } finally {
    for (const s of outs) b.free(s);
  }
  const after = b.bytesInUse();
  if (after !== before) throw new Error(`leaked ${after - before} bytes (bytesInUse ${before} → ${after})`);
  return values;
}

interface RowState {
  row: Row;
  worstScore: number;
  hash: number;
}

function newRow(kernel: string, backend: string, runtime: string): RowState {
  return { row: { kernel, backend, runtime, cases: 0, maxRelErr: 0, ok: true }, worstScore: -1, hash: FNV32_OFFSET };
}

function missingKernel(c: ConformanceCase, b: Backend): string | null {
  const base = baseKernel(c.kernel);
  const fn = (b.kernels as unknown as Record<string, unknown> | undefined)?.[base];
  return typeof fn === 'function' ? null : `missing kernel ${base}`;
}

function fail(st: RowState, message: string): void {
  st.row.ok = false;
  st.row.error ??= message;
}

/** Fold one case's outputs into its row. */
function judge(st: RowState, c: ConformanceCase, out: AnyTypedArray[], ref: AnyTypedArray[]): void {
  const limit = toleranceLimit(c.tol);
  st.row.cases++;
  for (const o of out) st.hash = fnvFold(st.hash, o);
  st.row.hash = st.hash.toString(16).padStart(8, '0');
  if (out.length !== ref.length) {
    fail(st, `case "${c.label}": ${out.length} outputs, reference ${ref.length}`);
    st.row.maxRelErr = Infinity;
    return;
  }
  for (let i = 0; i < out.length; i++) {
    const { err, failure } = compareOutput(out[i]!, ref[i]!, limit);
    if (err > st.row.maxRelErr) st.row.maxRelErr = err;
    const score = limit > 0 ? err / limit : err > 0 ? Infinity : 0;
    if (score > st.worstScore) {
      st.worstScore = score;
      st.row.worst = c.label;
      st.row.limit = limit;
    }
    if (failure) fail(st, `case "${c.label}" output ${i}: ${failure}`);
  }
}

function groupCases(cases: readonly ConformanceCase[]): Map<string, ConformanceCase[]> {
  const groups = new Map<string, ConformanceCase[]>();
  for (const c of cases) {
    let g = groups.get(c.kernel);
    if (!g) groups.set(c.kernel, (g = []));
    g.push(c);
  }
  return groups;
}

/**
 * Run every case on `backend` and `reference`; one row per kernel (per op variant for unary, binary, compare and
 * reduce). Synchronous: both backends need `readSync` (js, wasm). `cases` defaults to the full suite; `label`
 * (default: the backend's name) names the backend in the rows, e.g. `wasm-relaxed` for the relaxed-SIMD build.
 */
export function runConformance(
  backend: Backend, reference: Backend, runtime: string, cases: readonly ConformanceCase[] = conformanceCases(),
  label: string = backend.name,
): Row[] {
  const rows: Row[] = [];
  for (const [kernel, group] of groupCases(cases)) {
    const st = newRow(kernel, label, runtime);
    const missing = missingKernel(group[0]!, backend);
    if (missing) {
      fail(st, missing);
      rows.push(st.row);
      continue;
    }
    for (const c of group) {
      let ref: AnyTypedArray[];
      try {
        ref = runCase(c, reference);
      } catch (e) {
        fail(st, `case "${c.label}": reference (${reference.name}) failed: ${describeError(e)}`);
        continue;
      }
      let out: AnyTypedArray[];
      try {
        out = runCase(c, backend);
      } catch (e) {
        fail(st, `case "${c.label}": ${describeError(e)}`);
        continue;
      }
      judge(st, c, out, ref);
    }
    rows.push(st.row);
  }
  return rows;
}

/** The same suite through async reads, for backends without `readSync` (WebGPU). */
export async function runConformanceAsync(
  backend: Backend, reference: Backend, runtime: string, cases: readonly ConformanceCase[] = conformanceCases(),
  label: string = backend.name,
): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [kernel, group] of groupCases(cases)) {
    const st = newRow(kernel, label, runtime);
    const missing = missingKernel(group[0]!, backend);
    if (missing) {
      fail(st, missing);
      rows.push(st.row);
      continue;
    }
    for (const c of group) {
      let ref: AnyTypedArray[];
      try {
        ref = await runCaseAsync(c, reference);
      } catch (e) {
        fail(st, `case "${c.label}": reference (${reference.name}) failed: ${describeError(e)}`);
        continue;
      }
      let out: AnyTypedArray[];
      try {
        out = await runCaseAsync(c, backend);
      } catch (e) {
        fail(st, `case "${c.label}": ${describeError(e)}`);
        continue;
      }
      judge(st, c, out, ref);
    }
    rows.push(st.row);
  }
  return rows;
}

/** Contract kernels that no row covers (should be empty: the suite covers the whole contract). */
export function uncoveredKernels(rows: readonly Row[] | readonly string[]): string[] {
  const names = new Set(rows.map((r) => baseKernel(typeof r === 'string' ? r : r.kernel)));
  return KERNEL_NAMES.filter((k) => !names.has(k));
}

/** A row as a JSON line (infinite errors become the string "Infinity" rather than null). */
export function rowToJson(row: Row): string {
  return JSON.stringify(row, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}

export function summarize(rows: readonly Row[], runtime: string, backends: readonly string[]) {
  return {
    summary: true as const,
    runtime,
    backends: [...backends],
    kernels: rows.length,
    ok: rows.filter((r) => r.ok).length,
    failed: rows.filter((r) => !r.ok).map((r) => `${r.backend}:${r.kernel}`),
  };
}
