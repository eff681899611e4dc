import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../src/io/safetensors.ts';
import { Rng } from '../src/tensor/random.ts';

function sample(): Uint8Array {
  return writeSafetensors(
    new Map<string, { shape: number[]; data: Float32Array | Int32Array | Uint8Array }>([
      ['encoder.norm.weight', { shape: [3], data: new Float32Array([1, 2, 3]) }],
      ['idx', { shape: [2, 2], data: new Int32Array([1, -2, 3, 4]) }],
      ['mask', { shape: [5], data: new Uint8Array([1, 0, 1, 1, 0]) }],
      ['empty', { shape: [0, 4], data: new Float32Array(0) }],
    ]),
    { format: 'pt' },
  );
}

describe('safetensors', () => {
  it('round-trips names, dtypes, shapes, values and metadata', () => {
    const bytes = sample();
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const f = readSafetensors(bytes);
    expect(f.metadata).toEqual({ format: 'pt' });
    expect(Array.from(f.tensors.get('encoder.norm.weight')!.data as Float32Array)).toEqual([1, 2, 3]);
    expect(f.tensors.get('idx')!.dtype).toBe('I32');
    expect(f.tensors.get('idx')!.shape).toEqual([2, 2]);
    expect(Array.from(f.tensors.get('mask')!.data as Uint8Array)).toEqual([1, 0, 1, 1, 0]);
    expect(f.tensors.get('empty')!.shape).toEqual([0, 4]);
  });

  it('refuses truncated and corrupt files with a clear error', () => {
    const bytes = sample();
    expect(() => readSafetensors(bytes.subarray(0, 5), 'm.safetensors')).toThrow(/m\.safetensors: .*shorter than the 8-byte/);
    expect(() => readSafetensors(bytes.subarray(0, bytes.length - 3))).toThrow(/outside the|trailing|truncated/);
    const bad = bytes.slice();
    new DataView(bad.buffer).setBigUint64(0, 1n << 40n, true);
    expect(() => readSafetensors(bad)).toThrow(/exceeds/);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))));
    const swap = (from: string, to: string) => {
      const h = new TextEncoder().encode(text.replace(from, to).padEnd(text.length, ' '));
      const out = new Uint8Array(8 + h.length + (bytes.length - 8 - text.length));
      new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
      out.set(h, 8);
      out.set(bytes.subarray(8 + text.length), 8 + h.length);
      return out;
    };
    expect(() => readSafetensors(swap('"F32"', '"F99"'))).toThrow(/unsupported dtype/);
    expect(() => readSafetensors(swap('[3]', '[4]'))).toThrow(/encoder\.norm\.weight.*bytes/);
    expect(() => readSafetensors(swap('{', '['))).toThrow(/JSON/);
  });

  it('never crashes or hangs on random mutations', () => {
    const bytes = sample();
    const rng = new Rng(3);
    for (let trial = 0; trial < 2000; trial++) {
      const m = bytes.slice(0, 1 + rng.int(bytes.length));
      const flips = 1 + rng.int(4);
      for (let f = 0; f < flips; f++) m[rng.int(m.length)] = rng.int(256);
      try {
        readSafetensors(m);
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        expect((e as Error).message).toMatch(/not a valid safetensors file/);
      }
    }
  });
});
