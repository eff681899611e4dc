/**
 * Reading a run's `model.safetensors` (the best weights under TSLib state-dict names, masks as `mask.<name>`) the
 * way every command that uses it must: checksum verified (checksum.ts), float tensors finite and masks 0/1
 * (value-checks.ts). A file with no sparsecast metadata at all (TSLib weights saved by PyTorch and dropped
 * into a run folder) is still accepted, with a warning that nothing could be verified.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readRunFile } from './checksum.ts';
import { assertRunTensorValues } from './value-checks.ts';
import type { SafetensorsFile } from './safetensors.ts';

export function readModelWeights(path: string, opts: { values?: boolean; warn?: (msg: string) => void } = {}): SafetensorsFile {
  if (!existsSync(path)) throw new Error(`${path} does not exist (did the run finish?)`);
  const file = readRunFile(readFileSync(path), path, { foreign: 'accept' });
  if (!file.verified) {
    (opts.warn ?? ((m: string) => process.stderr.write(`${m}\n`)))(`warning: ${path} was not written by sparsecast (no checksum); its integrity cannot be verified`);
  }
  if (opts.values !== false) assertRunTensorValues(path, file.tensors);
  return { tensors: file.tensors, metadata: file.metadata };
}
