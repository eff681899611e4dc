/**
 * Checkpoints: one safetensors file holding the model's state dict (`model.<key>`), the optimizer's moments
 * (`adam.m.<key>`, `adam.v.<key>`), optional sparse masks (`mask.<key>`), and the run state as JSON in the
 * header metadata. Written atomically — to a temporary file in the same folder, flushed, then renamed over
 * the old one — so a crash at any moment leaves the previous checkpoint intact and loadable. Each file carries a
 * checksum (src/io/checksum.ts) and loading verifies it and the values (finite weights and moments, 0/1 masks),
 * so a damaged or diverged checkpoint is refused rather than resumed from.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync, existsSync, unlinkSync } from 'node:fs';
import type { SafeArray } from '../io/safetensors.ts';
import { readRunFile, writeRunFile } from '../io/checksum.ts';
import { assertRunTensorValues } from '../io/value-checks.ts';

export interface CheckpointData {
  tensors: Map<string, { shape: number[]; data: SafeArray }>;
  state: Record<string, unknown>;
}

export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    // A failed write (a full disk) or rename leaves the old file as it was and no half-written file beside it.
    if (existsSync(tmp)) unlinkSync(tmp);
    throw e;
  }
}

export function saveCheckpoint(path: string, data: CheckpointData): void {
  const bytes = writeRunFile(data.tensors, { sparsecast_state: JSON.stringify(data.state) });
  writeFileAtomic(path, bytes);
}

export function loadCheckpoint(path: string): CheckpointData {
  if (!existsSync(path)) throw new Error(`checkpoint: ${path} does not exist`);
  const file = readRunFile(readFileSync(path), path, { foreign: 'refuse' });
  const raw = file.metadata.sparsecast_state;
  if (raw === undefined) throw new Error(`checkpoint: ${path} has no sparsecast_state metadata (not a sparsecast checkpoint)`);
  let state: Record<string, unknown>;
  try {
    state = JSON.parse(raw) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`checkpoint: ${path} has corrupt state metadata (${(e as Error).message})`);
  }
  assertRunTensorValues(path, file.tensors);
  const tensors = new Map<string, { shape: number[]; data: SafeArray }>();
  for (const [k, t] of file.tensors) tensors.set(k, { shape: t.shape, data: t.data });
  return { tensors, state };
}
