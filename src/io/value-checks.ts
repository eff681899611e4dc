/**
 * Value checks for weights read from run files. A checksum proves a file is what was written, not that what was
 * written is usable: a diverged run can save NaN weights with a valid checksum, and a mask byte other than 0/1
 * would make the sparsity accounting lie (negative sparsity, more sparse FLOPs than dense). Both are refused
 * where weights are loaded, naming the file, the tensor and the first bad index.
 */
import type { SafeArray, SafeDType } from './safetensors.ts';

/** Index of the first NaN or ±Infinity, or −1. */
export function firstNonFinite(a: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return i;
  return -1;
}

/** Throws when a weight tensor holds NaN or ±Infinity. `where` names the file (or the command). */
export function assertFinite(where: string, name: string, data: ArrayLike<number>): void {
  const i = firstNonFinite(data);
  if (i >= 0) {
    throw new Error(`${where}: tensor '${name}' holds a non-finite value (${data[i]}) at index ${i}; the weights are unusable (a diverged run?)`);
  }
}

/** Throws when a mask holds anything but 0 and 1. */
export function assertBinaryMask(where: string, name: string, mask: ArrayLike<number>): void {
  for (let i = 0; i < mask.length; i++) {
    const v = mask[i]!;
    if (v !== 0 && v !== 1) throw new Error(`${where}: mask '${name}' holds ${v} at index ${i}; a mask entry must be 0 or 1`);
  }
}

/**
 * Every float tensor finite and every `mask.<name>` tensor 0/1 (and U8): the checks for a whole run file
 * (checkpoint, best weights, model.safetensors).
 */
export function assertRunTensorValues(where: string, tensors: Map<string, { dtype?: SafeDType; data: SafeArray }>): void {
  for (const [name, t] of tensors) {
    if (name.startsWith('mask.')) {
      if (t.dtype !== undefined && t.dtype !== 'U8') throw new Error(`${where}: mask '${name}' is ${t.dtype}; masks are U8 0/1`);
      assertBinaryMask(where, name, t.data as Uint8Array);
    } else if (t.data instanceof Float32Array || t.data instanceof Float64Array) {
      assertFinite(where, name, t.data);
    }
  }
}
