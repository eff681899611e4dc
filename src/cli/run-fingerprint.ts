/**
 * What `--resume` must match: a checkpoint records the run's configuration and a fingerprint of its data file,
 * and resuming with different flags or different data is refused, listing each difference (old → new). A
 * resumed run that silently mixed two configurations (say the first epochs at one learning rate or horizon,
 * the rest at another) would report a result no single configuration produces.
 *
 * Compared: the whole RunSpec (every training, model, data-split and sparsity setting, as parsed, JSON-normal)
 * except the keys in MAY_CHANGE, plus the data file's size and SHA-256. May change on resume:
 * - `out`: it is the folder being resumed;
 * - `threads`: the kernels' results are the same bytes for any thread count;
 * - `checkpointEvery`: when checkpoints are written changes no computed value;
 * - `backend`: the same arithmetic in a different order, so a resumed run is no longer bit-identical to an
 *   uninterrupted one (a warning says so) but it is the same run — e.g. continuing on `js` where wasm is missing;
 * - `data` (the path): a moved or renamed file is accepted when its bytes are identical (size and SHA-256 are
 *   compared); if the name decides the split (`kind`), a changed kind is still refused;
 * - `labels` (TSLib's --model_id / --des) name the run and change nothing computed; `declared` (--enc_in …)
 *   only restates the data's channels, which the data's SHA-256 already fixes; `inverse` changes only the units
 *   of the final test's metrics, computed after training.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RunSpec } from './train-command.ts';
import { loadCheckpoint } from '../train/checkpoint.ts';

const MAY_CHANGE = ['out', 'threads', 'checkpointEvery', 'backend', 'data', 'labels', 'declared', 'inverse'] as const;

export interface RunFingerprint {
  /** The RunSpec without MAY_CHANGE keys, JSON-normal (undefined entries dropped). */
  config: Record<string, unknown>;
  data: { path: string; size: number; sha256: string };
  /** Informational: the backend the checkpoint was written on. */
  backend: string;
}

export function fingerprintRun(spec: RunSpec): RunFingerprint {
  const bytes = readFileSync(spec.data);
  const config = JSON.parse(JSON.stringify(spec)) as Record<string, unknown>;
  for (const k of MAY_CHANGE) delete config[k];
  return {
    config,
    data: { path: spec.data, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') },
    backend: spec.backend,
  };
}

/** Dotted paths of every leaf: {cfg: {predLen: 24}} → cfg.predLen = 24. Arrays are leaves. */
function flatten(o: Record<string, unknown>, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  for (const [k, v] of Object.entries(o)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, `${prefix}${k}.`, out);
    else out.set(`${prefix}${k}`, v);
  }
  return out;
}

/** Keys whose flag is not the snake_case of the key's last part. */
const FLAG_NAMES: Record<string, string> = {
  epochs: 'train_epochs', kind: 'data_kind', 'sparse.method': 'method', 'sparse.updateFrequency': 'update_freq',
  'cfg.dFf': 'd_ff', epochTest: 'no_epoch_test (off: per-epoch test)', 'cfg.distil': 'distil (off: distilling)',
};

function flagOf(key: string): string {
  const last = key.slice(key.lastIndexOf('.') + 1);
  return `--${FLAG_NAMES[key] ?? last.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
}

function show(v: unknown): string {
  return v === undefined ? '(unset)' : JSON.stringify(v);
}

/** Every difference that makes `next` a different run from `saved`, as "flag: old → new" lines. */
export function fingerprintDifferences(saved: RunFingerprint, next: RunFingerprint): string[] {
  const a = flatten(saved.config);
  const b = flatten(next.config);
  const diffs: string[] = [];
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    if (JSON.stringify(a.get(key)) !== JSON.stringify(b.get(key))) diffs.push(`${flagOf(key)} (${key}): ${show(a.get(key))} → ${show(b.get(key))}`);
  }
  if (saved.data.size !== next.data.size || saved.data.sha256 !== next.data.sha256) {
    diffs.push(`--data contents: ${saved.data.path} (${saved.data.size} bytes, sha256 ${saved.data.sha256.slice(0, 16)}…) → ${next.data.path} (${next.data.size} bytes, sha256 ${next.data.sha256.slice(0, 16)}…)`);
  }
  return diffs;
}

/** The checkpoint's `extra` state key the fingerprint is saved under (Trainer's extraState). */
const STATE_KEY = 'run_fingerprint';

/** Trainer `extraState` that writes the fingerprint into every checkpoint (reading it back is checkResume's job). */
export function fingerprintState(fp: RunFingerprint): { save(): Record<string, unknown>; load(s: Record<string, unknown>): void } {
  return { save: () => ({ [STATE_KEY]: fp }), load: () => {} };
}

/**
 * Refuse `--resume` unless `checkpointPath` was written by the same run configuration on the same data.
 * Reads (and so verifies) the checkpoint; writes nothing. Warns when only the backend changed.
 */
export function checkResume(checkpointPath: string, next: RunFingerprint, warn: (msg: string) => void = (m) => process.stderr.write(`${m}\n`)): void {
  const state = loadCheckpoint(checkpointPath).state as { extra?: Record<string, unknown> };
  const saved = state.extra?.[STATE_KEY] as RunFingerprint | undefined;
  if (!saved || typeof saved.config !== 'object' || typeof saved.data?.sha256 !== 'string') {
    throw new Error(`sparsecast train --resume: ${checkpointPath} records no run configuration (written by an older sparsecast), so it cannot be checked that --resume continues the same run; start a new run instead`);
  }
  const diffs = fingerprintDifferences(saved, next);
  if (diffs.length) {
    throw new Error(`sparsecast train --resume: the flags or data differ from the run that wrote ${checkpointPath}; resuming would mix two configurations. Differences (checkpoint → now):\n  ${diffs.join('\n  ')}\nResume with the original flags and data, or start a new run in another --out.`);
  }
  if (saved.backend !== next.backend) {
    warn(`warning: resuming on backend ${next.backend} (the checkpoint was written on ${saved.backend}): the result will be close to, not bit-identical with, an uninterrupted run`);
  }
}
