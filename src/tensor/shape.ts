/** Shape arithmetic shared by ops and backends: sizes, strides, broadcasting, axis normalisation. */

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

export function shapeToString(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** NumPy broadcasting of any number of shapes; throws naming the op and the shapes when impossible. */
export function broadcastShapes(op: string, ...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const k = s.length - rank + i;
      const sd = k >= 0 ? s[k]! : 1;
      if (sd === 1) continue;
      if (d !== 1 && d !== sd) {
        throw new Error(
          `${op}: shapes ${shapes.map(shapeToString).join(' and ')} cannot be broadcast together ` +
            `(dimension ${i} of the result: ${d} vs ${sd})`,
        );
      }
      d = sd;
    }
    out[i] = d;
  }
  return out;
}

/**
 * Strides of `shape` viewed inside a broadcast result of rank `rank`: 0 where the dimension is
 * stretched or missing. Backends use this to index broadcast inputs.
 */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const rank = outShape.length;
  const own = stridesOf(shape);
  const out = new Array<number>(rank).fill(0);
  for (let i = 0; i < rank; i++) {
    const k = shape.length - rank + i;
    if (k >= 0 && shape[k] !== 1) out[i] = own[k]!;
  }
  return out;
}

/** Normalise a possibly negative axis; throws naming the op when out of range. */
export function normAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(axis) || a < 0 || a >= rank) {
    throw new Error(`${op}: axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return a;
}

/** Sorted unique non-negative axes; `undefined` means all axes. */
export function normAxes(op: string, axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = [...new Set(list.map((a) => normAxis(op, a, rank)))].sort((x, y) => x - y);
  if (out.length !== list.length) throw new Error(`${op}: repeated axis in [${list.join(', ')}]`);
  return out;
}

/** Sum over the broadcast dimensions of `grad` so that it has `shape` again (the adjoint of broadcasting). */
export function reducedAxesForBroadcast(shape: readonly number[], outShape: readonly number[]): number[] {
  const axes: number[] = [];
  const offset = outShape.length - shape.length;
  for (let i = 0; i < outShape.length; i++) {
    const k = i - offset;
    if (k < 0 || (shape[k] === 1 && outShape[i] !== 1)) axes.push(i);
  }
  return axes;
}
