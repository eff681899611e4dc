// Checkpoints and run files are written atomically (README: "written atomically"): a write that fails part way —
// a full disk, here a writeSync that stops after half the bytes — leaves the previous file intact and nothing
// half-written beside it; a rename that fails does the same.
import { describe, expect, it, vi } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const fault = vi.hoisted(() => ({ on: false }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    writeSync: (fd: number, buf: Uint8Array, off: number, len: number) => {
      if (!fault.on) return fs.writeSync(fd, buf, off, len);
      fs.writeSync(fd, buf, off, len >> 1);
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    },
  };
});

const { writeFileAtomic } = await import('../src/train/checkpoint.ts');

describe('writeFileAtomic', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sc-atomic-'));
  const path = join(dir, 'checkpoint.safetensors');
  const a = new Uint8Array(4096).fill(1);
  const b = new Uint8Array(8192).fill(2);

  it('replaces the file whole', () => {
    writeFileAtomic(path, a);
    expect(readFileSync(path).equals(Buffer.from(a))).toBe(true);
    expect(readdirSync(dir)).toEqual(['checkpoint.safetensors']);
  });

  it('a write that fails part way leaves the old file intact and no temporary file', () => {
    fault.on = true;
    try {
      expect(() => writeFileAtomic(path, b)).toThrow(/ENOSPC/);
    } finally {
      fault.on = false;
    }
    expect(readFileSync(path).equals(Buffer.from(a))).toBe(true);
    expect(readdirSync(dir)).toEqual(['checkpoint.safetensors']);
    writeFileAtomic(path, b);
    expect(readFileSync(path).equals(Buffer.from(b))).toBe(true);
  });

  it('a rename that fails (the target is a folder) leaves no temporary file', () => {
    const sub = join(dir, 'busy');
    mkdirSync(sub);
    writeFileSync(join(sub, 'x'), 'x');
    expect(() => writeFileAtomic(sub, a)).toThrow();
    expect(readdirSync(dir).sort()).toEqual(['busy', 'checkpoint.safetensors']);
    expect(readdirSync(sub)).toEqual(['x']);
  });
});
