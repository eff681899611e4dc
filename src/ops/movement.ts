/**
 * Data movement: permute/transpose, slice, concat/split, pad, roll, cumsum, broadcast (expand), squeeze,
 * unsqueeze and repeat/tile. Every op that moves data materialises through one kernel; `squeeze` and
 * `unsqueeze` are reshapes (free). Backward passes are written with ops:
 * - permute ↔ inverse permute, slice ↔ zero pad, concat ↔ slices, roll ↔ roll back, cumsum ↔ reverse cumsum,
 *   expand ↔ unbroadcast (sum over the stretched axes);
 * - pad: zero → slice; circular → the padded gradient folded back modulo n (zero-pad to whole periods,
 *   reshape to [periods, n], sum); replicate → the edge positions collect the sum of everything replicated
 *   from them. Both are correct for any pad width, including pads wider than the axis.
 */
import type { PadMode } from '../backend/kernels.ts';
import { record } from '../autograd/tape.ts';
import { broadcastShapes, normAxis, sameShape, shapeToString, sizeOf } from '../tensor/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { checkDtype, checkInt, describe, storages, wrap } from './util.ts';
import { unbroadcast } from './binary.ts';
import { reshape } from './reshape.ts';
import { sum } from './reduce.ts';
import { cast } from './compare.ts';

// ---- permute / transpose -------------------------------------------------------------------------

function checkPerm(op: string, x: Tensor, perm: readonly number[]): number[] {
  if (perm.length !== x.rank) {
    throw new Error(`${op}: permutation [${perm.join(', ')}] has ${perm.length} axes but the input ${describe(x)} has rank ${x.rank}`);
  }
  const p = perm.map((a) => {
    if (!Number.isInteger(a) || a < -x.rank || a >= x.rank) {
      throw new Error(`${op}: axis ${a} in permutation [${perm.join(', ')}] is out of range for shape ${shapeToString(x.shape)}`);
    }
    return a < 0 ? a + x.rank : a;
  });
  if (new Set(p).size !== p.length) {
    throw new Error(`${op}: [${perm.join(', ')}] is not a permutation of the axes of shape ${shapeToString(x.shape)}`);
  }
  return p;
}

/** Reorder the axes: out.shape[d] = x.shape[perm[d]] (materialised copy; negative axes allowed). */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const p = checkPerm('permute', x, perm);
  if (p.every((a, i) => a === i)) return reshape(x, x.shape);
  const { backend, s } = storages('permute', x);
  const outShape = p.map((a) => x.shape[a]!);
  const out = wrap(backend.kernels.permute(s[0]!, [...x.shape], p), outShape, backend);
  const inverse = new Array<number>(p.length);
  p.forEach((a, i) => (inverse[a] = i));
  record('permute', [x], [out], ([g]) => [permute(g!, inverse)]);
  return out;
}

/** Swap two axes. */
export function transpose(x: Tensor, d0: number, d1: number): Tensor {
  const a = normAxis('transpose', d0, x.rank);
  const b = normAxis('transpose', d1, x.rank);
  const perm = Array.from({ length: x.rank }, (_, i) => i);
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}

// ---- slice / concat / split ----------------------------------------------------------------------

/**
 * Contiguous box: `begin[d]` (negative counts from the end) and `size[d]` elements (-1: to the end) on
 * every axis. `begin`/`size` may be shorter than the rank: missing trailing axes are taken whole.
 */
export function slice(x: Tensor, begin: readonly number[], size?: readonly number[]): Tensor {
  const op = 'slice';
  if (begin.length > x.rank || (size && size.length > x.rank)) {
    throw new Error(`${op}: begin [${begin.join(', ')}] / size [${(size ?? []).join(', ')}] have more entries than the rank of ${describe(x)}`);
  }
  const b: number[] = [];
  const sz: number[] = [];
  for (let d = 0; d < x.rank; d++) {
    const n = x.shape[d]!;
    let bd = begin[d] ?? 0;
    if (!Number.isInteger(bd)) throw new Error(`${op}: begin[${d}] = ${bd} is not an integer`);
    if (bd < 0) bd += n;
    const raw = size?.[d] ?? -1;
    if (!Number.isInteger(raw) || raw < -1) throw new Error(`${op}: size[${d}] = ${raw} must be an integer ≥ -1`);
    const sd = raw === -1 ? n - bd : raw;
    if (bd < 0 || bd > n || bd + sd > n) {
      throw new Error(`${op}: axis ${d} of shape ${shapeToString(x.shape)}: begin ${begin[d] ?? 0} with size ${raw} is out of range`);
    }
    b.push(bd);
    sz.push(sd);
  }
  if (sameShape(sz, x.shape)) return reshape(x, x.shape);
  const { backend, s } = storages(op, x);
  const out = wrap(backend.kernels.slice(s[0]!, [...x.shape], b, sz), sz, backend);
  const inShape = x.shape;
  record(op, [x], [out], ([g]) => [
    pad(g!, b.map((bd, d) => [bd, inShape[d]! - bd - sz[d]!] as [number, number]), 'zero'),
  ]);
  return out;
}

/** Slice `length` elements starting at `start` along one axis (-1 length: to the end). */
export function sliceAxis(x: Tensor, axis: number, start: number, length = -1): Tensor {
  const a = normAxis('sliceAxis', axis, x.rank);
  const begin = new Array<number>(x.rank).fill(0);
  const size = new Array<number>(x.rank).fill(-1);
  begin[a] = start;
  size[a] = length;
  return slice(x, begin, size);
}

/** Join tensors along `axis`; every other dimension must agree. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  const op = 'concat';
  if (xs.length === 0) throw new Error(`${op}: needs at least one tensor`);
  const first = xs[0]!;
  const a = normAxis(op, axis, first.rank);
  for (const t of xs) {
    if (t.dtype !== first.dtype) {
      throw new Error(`${op}: dtypes differ (${xs.map(describe).join(', ')})`);
    }
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new Error(`${op}: shapes ${xs.map((u) => shapeToString(u.shape)).join(', ')} differ outside axis ${axis}`);
    }
  }
  if (xs.length === 1) return reshape(first, first.shape);
  const { backend, s } = storages(op, ...xs);
  const outShape = [...first.shape];
  outShape[a] = xs.reduce((acc, t) => acc + t.shape[a]!, 0);
  const out = wrap(backend.kernels.concat(s, xs.map((t) => [...t.shape]), a), outShape, backend);
  const sizes = xs.map((t) => t.shape[a]!);
  record(op, [...xs], [out], ([g]) => {
    let off = 0;
    return xs.map((t, i) => {
      const start = off;
      off += sizes[i]!;
      return t.requiresGrad ? sliceAxis(g!, a, start, sizes[i]!) : null;
    });
  });
  return out;
}

/** Stack equally shaped tensors along a new axis. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error('stack: needs at least one tensor');
  const a = normAxis('stack', axis, xs[0]!.rank + 1);
  for (const t of xs) {
    if (!sameShape(t.shape, xs[0]!.shape)) {
      throw new Error(`stack: shapes ${xs.map((u) => shapeToString(u.shape)).join(', ')} differ`);
    }
  }
  return concat(xs.map((t) => unsqueeze(t, a)), a);
}

/**
 * Split along `axis` into pieces of the given sizes (which must add up to the axis length), or, with a
 * single number, into chunks of that size (the last one may be shorter), as torch.split.
 */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  const op = 'split';
  const a = normAxis(op, axis, x.rank);
  const n = x.shape[a]!;
  let list: number[];
  if (typeof sizes === 'number') {
    checkInt(op, 'chunk size', sizes, 1);
    list = [];
    for (let off = 0; off < n; off += sizes) list.push(Math.min(sizes, n - off));
  } else {
    list = [...sizes];
    for (const v of list) checkInt(op, 'piece size', v, 0);
    const total = list.reduce((p, q) => p + q, 0);
    if (total !== n) {
      throw new Error(`${op}: sizes [${list.join(', ')}] add up to ${total} but axis ${axis} of ${shapeToString(x.shape)} has ${n}`);
    }
  }
  let off = 0;
  return list.map((len) => {
    const piece = sliceAxis(x, a, off, len);
    off += len;
    return piece;
  });
}

// ---- pad -----------------------------------------------------------------------------------------

/**
 * Pad with `pads[i] = [before, after]`. `pads` lines up with the TRAILING axes (like torch.nn.functional.pad,
 * but listed first-to-last): a rank-3 x with `pads = [[1, 2]]` pads the last axis only; `pads.length` may
 * equal the rank to address every axis. Modes: 'zero' (zeros), 'circular' (wrap around; any width),
 * 'replicate' (repeat the edge value).
 */
export function pad(x: Tensor, pads: ReadonlyArray<readonly [number, number]>, mode: PadMode = 'zero'): Tensor {
  const op = 'pad';
  if (mode !== 'zero' && mode !== 'circular' && mode !== 'replicate') {
    throw new Error(`${op}: unknown mode '${String(mode)}' (expected zero, circular or replicate)`);
  }
  if (pads.length > x.rank) {
    throw new Error(`${op}: ${pads.length} pad pairs for the input ${describe(x)} of rank ${x.rank}`);
  }
  const full: Array<[number, number]> = [];
  for (let d = 0; d < x.rank; d++) {
    const k = d - (x.rank - pads.length);
    const p = k >= 0 ? pads[k]! : ([0, 0] as const);
    if (!Array.isArray(p) || p.length !== 2 || !p.every((v) => Number.isInteger(v) && v >= 0)) {
      throw new Error(`${op}: pads for axis ${d} must be [before, after] non-negative integers, got ${JSON.stringify(p)}`);
    }
    if (mode !== 'zero' && (p[0] > 0 || p[1] > 0) && x.shape[d] === 0) {
      throw new Error(`${op}: cannot ${mode}-pad the empty axis ${d} of shape ${shapeToString(x.shape)}`);
    }
    full.push([p[0], p[1]]);
  }
  if (full.every(([b, e]) => b === 0 && e === 0)) return reshape(x, x.shape);
  const { backend, s } = storages(op, x);
  const outShape = x.shape.map((d, i) => d + full[i]![0] + full[i]![1]);
  const out = wrap(backend.kernels.pad(s[0]!, [...x.shape], full, mode), outShape, backend);
  const inShape = [...x.shape];
  record(op, [x], [out], ([g]) => [padAdjoint(g!, inShape, full, mode)]);
  return out;
}

/** The adjoint of `pad`: applied axis by axis (padding is separable, so its adjoint is too). */
function padAdjoint(g: Tensor, inShape: number[], pads: Array<[number, number]>, mode: PadMode): Tensor {
  if (mode === 'zero') {
    return slice(g, pads.map(([b]) => b), inShape);
  }
  let cur = g;
  for (let d = 0; d < inShape.length; d++) {
    const [before, after] = pads[d]!;
    if (before === 0 && after === 0) continue;
    const n = inShape[d]!;
    cur = mode === 'circular' ? foldCircular(cur, d, n, before) : foldReplicate(cur, d, n, before, after);
  }
  return cur;
}

/** Sum g along `axis` modulo n, where output position i came from input (i - before) mod n. */
function foldCircular(g: Tensor, axis: number, n: number, before: number): Tensor {
  const len = g.shape[axis]!;
  const lead = (n - (before % n)) % n; // zeros in front so position 0 of the block maps to source 0
  const total = lead + len;
  const periods = Math.ceil(total / n);
  const tail = periods * n - total;
  const pads: Array<[number, number]> = g.shape.map(() => [0, 0]);
  pads[axis] = [lead, tail];
  const padded = lead > 0 || tail > 0 ? pad(g, pads, 'zero') : g;
  const shp = [...g.shape.slice(0, axis), periods, n, ...g.shape.slice(axis + 1)];
  const summed = sum(reshape(padded, shp), [axis], false);
  return summed;
}

/** Replicate adjoint along `axis`: each edge collects the gradient of every copy made of it. */
function foldReplicate(g: Tensor, axis: number, n: number, before: number, after: number): Tensor {
  if (n === 1) return sum(g, [axis], true);
  const first = sum(sliceAxis(g, axis, 0, before + 1), [axis], true);
  const last = sum(sliceAxis(g, axis, before + n - 1, after + 1), [axis], true);
  if (n === 2) return concat([first, last], axis);
  const middle = sliceAxis(g, axis, before + 1, n - 2);
  return concat([first, middle, last], axis);
}

// ---- roll / cumsum -------------------------------------------------------------------------------

/** torch.roll along one axis: out[i] = x[(i - shift) mod n]. */
export function roll(x: Tensor, shift: number, axis: number): Tensor {
  const op = 'roll';
  const a = normAxis(op, axis, x.rank);
  if (!Number.isInteger(shift)) throw new Error(`${op}: shift must be an integer, got ${shift}`);
  const n = x.shape[a]!;
  const sh = n === 0 ? 0 : ((shift % n) + n) % n;
  if (sh === 0) return reshape(x, x.shape);
  const { backend, s } = storages(op, x);
  const out = wrap(backend.kernels.roll(s[0]!, [...x.shape], a, sh), x.shape, backend);
  record(op, [x], [out], ([g]) => [roll(g!, n - sh, a)]);
  return out;
}

/** Inclusive cumulative sum along `axis` (`reverse`: from the end). Its adjoint is the reverse cumsum. */
export function cumsum(x: Tensor, axis: number, opts: { reverse?: boolean } = {}): Tensor {
  const op = 'cumsum';
  checkDtype(op, x, ['f32']);
  const a = normAxis(op, axis, x.rank);
  const reverse = opts.reverse ?? false;
  const { backend, s } = storages(op, x);
  const out = wrap(backend.kernels.cumsum(s[0]!, [...x.shape], a, reverse), x.shape, backend);
  record(op, [x], [out], ([g]) => [cumsum(g!, a, { reverse: !reverse })]);
  return out;
}

// ---- broadcast / squeeze / unsqueeze / repeat ------------------------------------------------------

/** Materialise x broadcast (NumPy rules, right-aligned) to `shape`. The adjoint sums the stretched axes. */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  const op = 'broadcastTo';
  const target = [...shape];
  for (const d of target) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`${op}: invalid target shape ${shapeToString(target)}`);
  }
  let ok = x.rank <= target.length;
  if (ok) {
    try {
      ok = sameShape(broadcastShapes(op, x.shape, target), target);
    } catch {
      ok = false;
    }
  }
  if (!ok) throw new Error(`${op}: cannot broadcast ${describe(x)} to ${shapeToString(target)}`);
  if (sameShape(x.shape, target)) return reshape(x, target);
  if (x.dtype === 'u8') return cast(broadcastTo(cast(x, 'i32'), target), 'u8');
  // x + 0 over the target shape: one fill and one broadcasting binary kernel, whatever the backend.
  const { backend, s } = storages(op, x);
  const zeros = backend.kernels.fill(sizeOf(target), x.dtype, 0);
  let outStorage;
  try {
    outStorage = backend.kernels.binary('add', s[0]!, [...x.shape], zeros, target);
  } finally {
    backend.free(zeros);
  }
  const out = wrap(outStorage, target, backend);
  const inShape = x.shape;
  record(op, [x], [out], ([g]) => [unbroadcast(g!, inShape)]);
  return out;
}

/** Alias of `broadcastTo` (torch.Tensor.expand with explicit sizes; -1 keeps the input's dimension). */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const off = shape.length - x.rank;
  return broadcastTo(x, shape.map((d, i) => (d === -1 && i - off >= 0 ? x.shape[i - off]! : d)));
}

/** Remove size-1 axes (all of them, or the listed ones, which must have size 1). */
export function squeeze(x: Tensor, axes?: number | readonly number[]): Tensor {
  const op = 'squeeze';
  let drop: Set<number>;
  if (axes === undefined) {
    drop = new Set(x.shape.flatMap((d, i) => (d === 1 ? [i] : [])));
  } else {
    const list = typeof axes === 'number' ? [axes] : axes;
    drop = new Set(list.map((a) => normAxis(op, a, x.rank)));
    for (const a of drop) {
      if (x.shape[a] !== 1) throw new Error(`${op}: axis ${a} of shape ${shapeToString(x.shape)} has size ${x.shape[a]}, not 1`);
    }
  }
  return reshape(x, x.shape.filter((_, i) => !drop.has(i)));
}

/** Insert a size-1 axis at `axis` (in the result's numbering; negative counts from the end). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normAxis('unsqueeze', axis, x.rank + 1);
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

/**
 * torch.Tensor.repeat: tile x `reps[i]` times along each axis. `reps` may be longer than the rank (new
 * leading axes). Built from reshape + broadcastTo + reshape, so its gradient is the sum over the copies.
 */
export function repeat(x: Tensor, reps: readonly number[]): Tensor {
  const op = 'repeat';
  if (reps.length < x.rank) {
    throw new Error(`${op}: ${reps.length} repeat counts for the input ${describe(x)} of rank ${x.rank}`);
  }
  for (const r of reps) checkInt(op, 'repeat count', r, 0);
  const shape = [...new Array<number>(reps.length - x.rank).fill(1), ...x.shape];
  const inter: number[] = [];
  const expanded: number[] = [];
  shape.forEach((d, i) => {
    inter.push(1, d);
    expanded.push(reps[i]!, d);
  });
  const out = shape.map((d, i) => d * reps[i]!);
  return reshape(broadcastTo(reshape(x, inter), expanded), out);
}

/** numpy.tile / torch.tile: like `repeat`, but fewer reps than axes repeat the trailing axes. */
export function tile(x: Tensor, reps: readonly number[]): Tensor {
  const r = reps.length < x.rank ? [...new Array<number>(x.rank - reps.length).fill(1), ...reps] : [...reps];
  return repeat(x, r);
}

/** torch.repeat_interleave with a constant count along `axis`: each element repeated `count` times. */
export function repeatInterleave(x: Tensor, count: number, axis: number): Tensor {
  const a = normAxis('repeatInterleave', axis, x.rank);
  checkInt('repeatInterleave', 'count', count, 0);
  const inter = [...x.shape.slice(0, a + 1), 1, ...x.shape.slice(a + 1)];
  const expanded = [...x.shape.slice(0, a + 1), count, ...x.shape.slice(a + 1)];
  const out = [...x.shape];
  out[a] = x.shape[a]! * count;
  return reshape(broadcastTo(reshape(x, inter), expanded), out);
}
