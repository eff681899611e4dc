// File integrity and one run per folder: every safetensors file a run writes carries a checksum that every
// reader verifies; weights must be finite and masks 0/1 even when the checksum is valid; a non-finite metric
// fails the command; a run folder has one run at a time (a lock), and --resume continues only the same run
// (configuration and data fingerprint).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { BIN, runCli } from './shared/cli.ts';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors } from '../src/io/safetensors.ts';
import { CHECKSUM_KEY, readRunFile, sealRunFile, writeRunFile } from '../src/io/checksum.ts';
import { crc32 } from '../src/io/crc32.ts';
import { assertRunTensorValues } from '../src/io/value-checks.ts';
import { acquireRunLock, LOCK_NAME } from '../src/cli/run-lock.ts';
import { makeDir } from '../src/io/make-dir.ts';
import { fingerprintDifferences, type RunFingerprint } from '../src/cli/run-fingerprint.ts';
import { assertFiniteMetrics } from '../src/cli/result-check.ts';

const cli = (args: string[]) => runCli(args);
/** `TRAIN` with some flags' values replaced (or added), each flag given once. */
const trainWith = (set: Record<string, string>) => {
  const args = [...TRAIN];
  for (const [k, v] of Object.entries(set)) {
    const i = args.indexOf(`--${k}`);
    if (i >= 0) args[i + 1] = v;
    else args.push(`--${k}`, v);
  }
  return args;
};
const TRAIN = [
  'train', '--data', 'data/ETTh1.csv', '--seq_len', '48', '--label_len', '24', '--pred_len', '24', '--d_model', '16', '--n_heads', '2',
  '--e_layers', '1', '--d_ff', '32', '--train_epochs', '1', '--max_train_batches', '3',
];

function sample(): Map<string, { shape: number[]; data: Float32Array | Uint8Array }> {
  return new Map<string, { shape: number[]; data: Float32Array | Uint8Array }>([
    ['a.weight', { shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) }],
    ['b.weight', { shape: [3, 2], data: new Float32Array([7, 8, 9, 10, 11, 12]) }],
    ['mask.a.weight', { shape: [2, 3], data: new Uint8Array([1, 0, 1, 1, 0, 1]) }],
  ]);
}

/** Byte position in the file of tensor `name`'s data. */
function dataAt(bytes: Uint8Array, name: string): number {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const h = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { data_offsets: [number, number] }>;
  return 8 + n + h[name]!.data_offsets[0];
}

/** Replace the first occurrence of `from` in the header by `to` (same length, so nothing moves). */
function editHeader(bytes: Uint8Array, from: string, to: string): Uint8Array {
  expect(to.length).toBe(from.length);
  const s = Buffer.from(bytes).toString('latin1');
  const i = s.indexOf(from);
  expect(i, from).toBeGreaterThan(0);
  const out = new Uint8Array(bytes);
  out.set(Buffer.from(to, 'latin1'), i);
  return out;
}

describe('run file checksums (unit)', () => {
  it('round-trips, is readable by the generic reader, and uses the shared CRC-32', () => {
    const bytes = writeRunFile(sample(), { sparsecast_state: '{"step":3}' });
    const f = readRunFile(bytes, 'x.safetensors');
    expect(f.verified).toBe(true);
    expect(f.metadata.producer).toBe('sparsecast');
    expect(f.metadata[CHECKSUM_KEY]).toMatch(/^crc32:[0-9a-f]{8}$/);
    expect(Array.from(f.tensors.get('b.weight')!.data as Float32Array)).toEqual([7, 8, 9, 10, 11, 12]);
    // Unknown metadata is just metadata to a plain safetensors reader (PyTorch's ignores it too).
    expect(readSafetensors(bytes).tensors.size).toBe(3);
    // The check value of the standard CRC-32 ("123456789" → cbf43926).
    expect(crc32([new TextEncoder().encode('12345'), new TextEncoder().encode('6789')]).toString(16)).toBe('cbf43926');
  });

  it('a flipped bit in the data is refused, naming the file and both checksums', () => {
    const bytes = writeRunFile(sample());
    const bad = new Uint8Array(bytes);
    bad[dataAt(bad, 'b.weight') + 5]! ^= 0x10;
    expect(() => readSafetensors(bad)).not.toThrow(); // structurally fine: only the checksum can tell
    expect(() => readRunFile(bad, 'runs/x/model.safetensors')).toThrow(/runs\/x\/model\.safetensors is corrupt: checksum mismatch \(expected crc32:[0-9a-f]{8}, got crc32:[0-9a-f]{8}\)/);
  });

  it('a changed header entry (shape, tensor names, metadata) is refused', () => {
    const bytes = writeRunFile(sample(), { sparsecast_state: '{"step":3}' });
    // [2,3] → [3,2]: same byte count, so the generic reader accepts it.
    const shape = editHeader(bytes, '"a.weight":{"dtype":"F32","shape":[2,3]', '"a.weight":{"dtype":"F32","shape":[3,2]');
    expect(() => readSafetensors(shape)).not.toThrow();
    expect(() => readRunFile(shape, 'f')).toThrow(/f is corrupt: checksum mismatch/);
    // Swapped names of two equal-size tensors: every byte still belongs to one tensor, under the wrong name.
    const swapped = editHeader(editHeader(editHeader(bytes, '"a.weight"', '"z.weight"'), '"b.weight"', '"a.weight"'), '"z.weight"', '"b.weight"');
    expect(Array.from(readSafetensors(swapped).tensors.get('a.weight')!.data as Float32Array)).toEqual([7, 8, 9, 10, 11, 12]);
    expect(() => readRunFile(swapped, 'f')).toThrow(/f is corrupt: checksum mismatch/);
    const state = editHeader(bytes, '{\\"step\\":3}', '{\\"step\\":4}');
    expect(() => readRunFile(state, 'ck')).toThrow(/ck is corrupt: checksum mismatch/);
  });

  it('plain files: foreign accepted unverified where asked, a sparsecast file without a checksum refused', () => {
    const plain = writeSafetensors(sample(), { format: 'pt' });
    expect(readSafetensors(plain).tensors.size).toBe(3);
    expect(readRunFile(plain, 'p', { foreign: 'accept' }).verified).toBe(false);
    expect(() => readRunFile(plain, 'p')).toThrow(/p: not a sparsecast run file/);
    const old = writeSafetensors(sample(), { format: 'pt', producer: 'sparsecast' });
    expect(() => readRunFile(old, 'old.safetensors', { foreign: 'accept' })).toThrow(/old\.safetensors: written without a checksum/);
    const oldCk = writeSafetensors(sample(), { sparsecast_state: '{}' });
    expect(() => readRunFile(oldCk, 'ck', { foreign: 'accept' })).toThrow(/ck: written without a checksum/);
  });

  it('values: non-finite weights and non-0/1 masks are named with their first index, even with a valid checksum', () => {
    const bytes = writeRunFile(sample());
    const nan = new Uint8Array(bytes);
    new DataView(nan.buffer).setFloat32(dataAt(nan, 'b.weight') + 8, NaN, true);
    sealRunFile(nan);
    const f = readRunFile(nan, 'm.safetensors');
    expect(() => assertRunTensorValues('m.safetensors', f.tensors)).toThrow(/m\.safetensors: tensor 'b\.weight' holds a non-finite value \(NaN\) at index 2/);
    const seven = new Uint8Array(bytes);
    seven[dataAt(seven, 'mask.a.weight') + 4] = 7;
    sealRunFile(seven);
    expect(() => assertRunTensorValues('m', readRunFile(seven, 'm').tensors)).toThrow(/mask 'mask\.a\.weight' holds 7 at index 4/);
  });

  it('a non-finite metric fails the command, an interrupted run does not', () => {
    expect(() => assertFiniteMetrics('sparsecast eval', { mse: NaN, mae: 0.5 })).toThrow(/sparsecast eval: the test mse is NaN/);
    expect(() => assertFiniteMetrics('sparsecast train', { mse: 1, mae: Infinity })).toThrow(/mae is Infinity/);
    expect(() => assertFiniteMetrics('sparsecast train', { mse: NaN, mae: NaN, interrupted: true })).not.toThrow();
    expect(() => assertFiniteMetrics('sparsecast train', { mse: 0.4, mae: 0.5 })).not.toThrow();
  });
});

describe('run lock (unit)', () => {
  it('one holder; released; stale and foreign-host locks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-lock-'));
    const lock = acquireRunLock(dir, 'test');
    const path = join(dir, LOCK_NAME);
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.pid);
    expect(() => acquireRunLock(dir, 'again')).toThrow(/is in use by another run \(pid \d+ on .*started .*; lock .*\.sparsecast\.lock\)/);
    lock.release();
    expect(existsSync(path)).toBe(false);

    // A dead pid on this host: taken over with a warning.
    const dead = spawnSync(process.execPath, ['-e', 'process.pid'], { encoding: 'utf8' }).pid!;
    writeFileSync(path, JSON.stringify({ pid: dead, hostname: hostname(), started: '2020-01-01T00:00:00Z', command: 'old' }));
    const warnings: string[] = [];
    const l2 = acquireRunLock(dir, 'new', (m) => warnings.push(m));
    expect(warnings.join()).toMatch(new RegExp(`taking over the stale lock .*pid ${dead}`));
    expect(JSON.parse(readFileSync(path, 'utf8')).command).toBe('new');
    l2.release();

    // Another host: cannot be checked, refused with a hint.
    writeFileSync(path, JSON.stringify({ pid: 1, hostname: 'elsewhere.example', started: '2020-01-01T00:00:00Z', command: 'x' }));
    expect(() => acquireRunLock(dir, 'y')).toThrow(/pid 1 on elsewhere\.example.*another host.*delete .*\.sparsecast\.lock/);
    rmSync(path);

    // A process that exits without releasing (process.exit, as the signal handlers do) leaves no lock behind.
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e',
      `import { acquireRunLock } from './src/cli/run-lock.ts'; acquireRunLock(${JSON.stringify(dir)}, 'child'); process.exit(143);`], { encoding: 'utf8' });
    expect(child.status, child.stderr).toBe(143);
    expect(existsSync(path)).toBe(false);
  });
});

describe('run folders (unit)', () => {
  it('makeDir creates missing parents, accepts an existing folder, and refuses with the reason instead of hanging', () => {
    const base = mkdtempSync(join(tmpdir(), 'sc-mkdir-'));
    makeDir(join(base, 'a', 'b', 'c'));
    expect(statSync(join(base, 'a', 'b', 'c')).isDirectory()).toBe(true);
    makeDir(join(base, 'a', 'b'));
    writeFileSync(join(base, 'file'), 'x');
    expect(() => makeDir(join(base, 'file'), 'the --out folder')).toThrow(`cannot create the --out folder ${join(base, 'file')}: ${join(base, 'file')} exists and is not a folder`);
    expect(() => makeDir(join(base, 'file', 'sub'))).toThrow(/cannot create the folder .*file\/sub: ENOTDIR/);
    // /proc refuses a new entry with ENOENT though its parent exists: Node's recursive mkdir loops on that forever.
    expect(() => makeDir('/proc/sparsecast-test/run')).toThrow(/^cannot create the folder \/proc\/sparsecast-test\/run: ENOENT: .*mkdir '\/proc\/sparsecast-test'/);
  });
});

describe('resume fingerprint (unit)', () => {
  it('lists each differing key with old → new, and the data contents', () => {
    const base: RunFingerprint = {
      config: { model: 'Transformer', cfg: { predLen: 24, seqLen: 48 }, learningRate: 1e-4, sparse: { method: 'dense' } },
      data: { path: 'a.csv', size: 10, sha256: 'a'.repeat(64) }, backend: 'wasm',
    };
    expect(fingerprintDifferences(base, structuredClone(base))).toEqual([]);
    const moved = structuredClone(base);
    moved.data.path = 'b.csv'; // same bytes elsewhere: allowed
    expect(fingerprintDifferences(base, moved)).toEqual([]);
    const next = structuredClone(base);
    (next.config.cfg as { predLen: number }).predLen = 48;
    next.config.learningRate = 1e-3;
    next.data = { path: 'b.csv', size: 10, sha256: 'b'.repeat(64) };
    const d = fingerprintDifferences(base, next);
    expect(d).toHaveLength(3);
    expect(d[0]).toBe('--pred_len (cfg.predLen): 24 → 48');
    expect(d[1]).toBe('--learning_rate (learningRate): 0.0001 → 0.001');
    expect(d[2]).toMatch(/--data contents: a\.csv .* → b\.csv/);
  });
});

describe('integrity (cli)', () => {
  let root = '';
  let base = '';
  let baseMse = 0;
  let n = 0;
  /** A fresh copy of the trained run folder. */
  const copy = () => {
    const d = join(root, `case-${n++}`);
    cpSync(base, d, { recursive: true });
    return d;
  };
  const flipBit = (file: string, at: (b: Uint8Array) => number) => {
    const b = new Uint8Array(readFileSync(file));
    b[at(b)]! ^= 0x01;
    writeFileSync(file, b);
  };
  /** Every file's bytes and mtime: what a refused command must leave as it was. */
  const snapshot = (dir: string) => readdirSync(dir).sort().map((f) => `${f}:${statSync(join(dir, f)).mtimeMs}:${readFileSync(join(dir, f)).toString('base64').length}`);

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'sc-integrity-'));
    base = join(root, 'base');
    const t = cli([...TRAIN, '--out', base]);
    expect(t.status, t.stderr).toBe(0);
    baseMse = JSON.parse(t.stdout.trim()).mse;
    expect(existsSync(join(base, LOCK_NAME))).toBe(false); // released at exit
  }, 180_000);
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('a flipped bit in model.safetensors: eval, predict, export and report refuse, naming the file', () => {
    const d = copy();
    const model = join(d, 'model.safetensors');
    flipBit(model, (b) => b.length - 1001);
    const msg = /model\.safetensors is corrupt: checksum mismatch \(expected crc32:[0-9a-f]{8}, got crc32:[0-9a-f]{8}\)/;
    for (const args of [
      ['eval', '--checkpoint', d],
      ['predict', '--checkpoint', d, '--data', 'data/ETTh1.csv', '--out', join(d, 'f.csv')],
      ['export', '--checkpoint', d, '--out', join(d, 'm.sc')],
      ['report', '--out', d],
    ]) {
      // report reads model.safetensors for the final per-layer densities, i.e. when topology updates were logged.
      if (args[0] === 'report') {
        writeFileSync(join(d, 'sparsity.jsonl'), `${JSON.stringify({ step: 1, epoch: 1, zeta: 0.5, decision: 'expand', val_loss: 1, L_best: 1, S_best: 0, sparsity: 0.1, masked_sparsity: 0.1, layers: { 'decoder.projection.weight': 0.9 } })}\n`);
      }
      const r = cli(args);
      expect(r.status, `${args[0]}: ${r.stderr}`).not.toBe(0);
      expect(r.stderr, args[0]).toMatch(msg);
      expect(r.stdout, args[0]).toBe('');
    }
    expect(existsSync(join(d, 'f.csv'))).toBe(false);
    expect(existsSync(join(d, 'm.sc'))).toBe(false);
  }, 120_000);

  it('a flipped bit in the checkpoint: --resume refused before anything is written', () => {
    const d = copy();
    flipBit(join(d, 'checkpoint.safetensors'), (b) => dataAt(b, 'model.decoder.projection.weight') + 2);
    const before = snapshot(d);
    const r = cli([...TRAIN, '--out', d, '--resume']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/checkpoint\.safetensors is corrupt: checksum mismatch/);
    expect(snapshot(d)).toEqual(before);
  }, 60_000);

  it('a mask byte of 7 with a valid checksum: --resume, eval and export refuse, naming the mask', () => {
    const d = copy();
    const ck = join(d, 'checkpoint.safetensors');
    const b = new Uint8Array(readFileSync(ck));
    const name = 'mask.encoder.attn_layers.0.attention.query_projection.weight';
    b[dataAt(b, name) + 3] = 7;
    writeFileSync(ck, sealRunFile(b));
    const r = cli([...TRAIN, '--out', d, '--resume']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/checkpoint\.safetensors: mask 'mask\.encoder\.attn_layers\.0\.attention\.query_projection\.weight' holds 7 at index 3/);

    // model.safetensors of a dense run has no masks: add one holding a 7 (and re-checksum the file).
    const model = join(d, 'model.safetensors');
    const f = readRunFile(readFileSync(model), model);
    const tensors = new Map([...f.tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data }]));
    const w = tensors.get('encoder.attn_layers.0.attention.query_projection.weight')!;
    const mask = new Uint8Array(w.data.length).fill(1);
    mask[5] = 7;
    tensors.set('mask.encoder.attn_layers.0.attention.query_projection.weight', { shape: w.shape, data: mask });
    writeFileSync(model, writeRunFile(tensors, { format: 'pt' }));
    for (const args of [['eval', '--checkpoint', d], ['export', '--checkpoint', d, '--out', join(d, 'm.sc')]]) {
      const e = cli(args);
      expect(e.status, args[0]).not.toBe(0);
      expect(e.stderr, args[0]).toMatch(/mask 'mask\.encoder\.attn_layers\.0\.attention\.query_projection\.weight' holds 7 at index 5/);
    }
  }, 120_000);

  it('a NaN weight with a valid checksum: export and eval refuse, naming the tensor and index', () => {
    const d = copy();
    const model = join(d, 'model.safetensors');
    const b = new Uint8Array(readFileSync(model));
    new DataView(b.buffer).setFloat32(dataAt(b, 'decoder.projection.weight') + 4 * 6, NaN, true);
    writeFileSync(model, sealRunFile(b));
    const x = cli(['export', '--checkpoint', d, '--out', join(d, 'm.sc')]);
    expect(x.status).not.toBe(0);
    expect(x.stderr).toMatch(/model\.safetensors: tensor 'decoder\.projection\.weight' holds a non-finite value \(NaN\) at index 6/);
    expect(existsSync(join(d, 'm.sc'))).toBe(false);
    const e = cli(['eval', '--checkpoint', d]);
    expect(e.status).not.toBe(0);
    expect(e.stderr).toMatch(/tensor 'decoder\.projection\.weight' holds a non-finite value \(NaN\) at index 6/);
  }, 60_000);

  it('finite weights that overflow the forecast: eval prints its line but exits non-zero', () => {
    const d = copy();
    const model = join(d, 'model.safetensors');
    const f = readRunFile(readFileSync(model), model);
    const tensors = new Map([...f.tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data }]));
    (tensors.get('decoder.projection.weight')!.data as Float32Array).fill(3e38);
    writeFileSync(model, writeRunFile(tensors, { format: 'pt' }));
    const e = cli(['eval', '--checkpoint', d]);
    expect(e.status, e.stderr).toBe(1);
    expect(e.stderr).toMatch(/sparsecast eval: the test mse is (NaN|Infinity)/);
    expect(JSON.parse(e.stdout.trim()).mse).toBe(null); // still printed, for diagnosis
    // predict has no metric to print: it refuses, naming where the forecast overflowed, and writes no file.
    const csv = join(d, 'overflow.csv');
    const p = cli(['predict', '--checkpoint', d, '--data', 'data/ETTh1.csv', '--out', csv]);
    expect(p.status).not.toBe(0);
    expect(p.stderr).toMatch(/forecast: the output is (NaN|-?Infinity) at row \d+, column \w+ of the forecast/);
    expect(existsSync(csv)).toBe(false);
  }, 60_000);

  it('train: a non-finite test MSE / MAE prints the JSON line, then exits 1', () => {
    // A custom file (70/10/20 split) whose test rows hold 1e30 in the target: training and validation see normal
    // values, the final test pass overflows.
    const data = join(root, 'huge-test.csv');
    const lines = readFileSync('data/ETTh1.csv', 'utf8').split('\n').slice(0, 2001);
    writeFileSync(data, `${lines.map((l, i) => (i < 1700 ? l : l.replace(/,[^,]*$/, ',1e30'))).join('\n')}\n`);
    const d = join(root, 'huge-test');
    const r = cli([...trainWith({ data }), '--out', d]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/sparsecast train: the test mse is (NaN|Infinity), mae is (NaN|Infinity) — a non-finite result/);
    const line = JSON.parse(r.stdout.trim()) as { mse: unknown; mae: unknown; best_val: number };
    expect(line.mse).toBe(null); // printed, for diagnosis
    expect(line.mae).toBe(null);
    expect(Number.isFinite(line.best_val)).toBe(true); // training itself went through

    // Such a run in a sweep fails the sweep, and --resume does not take its result.json (null metrics read as 0).
    const sweepDir = join(root, 'huge-sweep');
    const sweep = (...extra: string[]) => cli(['sweep', ...trainWith({ data }).slice(1), '--grid', 'seed=1,2', '--jobs', '1', '--out', sweepDir, ...extra]);
    const first = sweep();
    expect(first.status, first.stderr).toBe(1);
    expect(first.stderr).toMatch(/sweep: run .* failed \(exit 1\)/);
    const again = sweep('--resume');
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/sparsecast sweep --resume: .*seed1 holds a run that failed with a non-finite result \(test mse is null, mae is null\); it cannot be reused/);
    expect(existsSync(join(sweepDir, 'sweep.md'))).toBe(false);
  }, 120_000);

  it('a NaN loss stops train with exit 1, naming the step and the last good checkpoint, or that none was saved', () => {
    // An Adam step of 1e30 per weight: the second forward pass overflows.
    const nanStep = (stderr: string) => {
      const m = /train: loss is (?:NaN|-?Infinity) at epoch 1, step (\d+); stopped without updating the weights\./.exec(stderr);
      expect(m, stderr).not.toBe(null);
      return Number(m![1]);
    };
    // Checkpoints every step: the one of the step before is named, and it is there.
    const d = join(root, 'nan-every');
    const r = cli([...trainWith({ learning_rate: '1e30', checkpoint_every: '1' }), '--out', d]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toBe('');
    const step = nanStep(r.stderr);
    expect(step).toBeGreaterThan(1);
    expect(r.stderr).toContain(`The last good checkpoint is ${join(d, 'checkpoint.safetensors')}.`);
    const ck = readRunFile(readFileSync(join(d, 'checkpoint.safetensors')), 'checkpoint.safetensors');
    expect(JSON.parse(ck.metadata.sparsecast_state!).step).toBe(step - 1);
    expect(existsSync(join(d, 'result.json'))).toBe(false);

    // Before the first checkpoint (default: every 100 steps): no file is named as if it existed.
    const e = join(root, 'nan-none');
    const n = cli([...trainWith({ learning_rate: '1e30' }), '--out', e]);
    expect(n.status, n.stderr).toBe(1);
    expect(nanStep(n.stderr)).toBe(step);
    expect(n.stderr).not.toMatch(/last good checkpoint is/);
    expect(n.stderr).toMatch(/No checkpoint was saved before it .*there is none to resume from/);
    expect(existsSync(join(e, 'checkpoint.safetensors'))).toBe(false);
  }, 60_000);

  it('an --out folder that cannot be created is refused at once, naming the flag (was a hang under /proc)', () => {
    const r = runCli([...TRAIN, '--out', '/proc/sparsecast-test/run'], { timeout: 50_000 });
    expect(r.signal, 'killed: it hung').toBe(null);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^cannot create the --out folder \/proc\/sparsecast-test\/run: ENOENT/m);
  }, 60_000);

  it('a second run into a locked folder is refused; a stale lock is taken over with a warning', () => {
    const d = copy();
    const lock = join(d, LOCK_NAME);
    // Held by a live process on this host (this test's own process).
    writeFileSync(lock, JSON.stringify({ pid: process.pid, hostname: hostname(), started: '2026-01-01T00:00:00.000Z', command: 'sparsecast train …' }));
    const before = snapshot(d);
    const r = cli([...TRAIN, '--out', d]);
    expect(r.status, 'EX_TEMPFAIL: busy, try again later').toBe(75);
    expect(r.stderr).toMatch(new RegExp(`is in use by another run \\(pid ${process.pid} on ${hostname().replace(/\./g, '\\.')}, started 2026-01-01T00:00:00\\.000Z.*lock .*\\.sparsecast\\.lock\\)`));
    expect(snapshot(d)).toEqual(before);

    // Left by a process that is gone: taken over, the run completes, the lock is removed at exit.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(lock, JSON.stringify({ pid: dead, hostname: hostname(), started: '2026-01-01T00:00:00.000Z', command: 'killed' }));
    const s = cli([...TRAIN, '--out', d]);
    expect(s.status, s.stderr).toBe(0);
    expect(s.stderr).toMatch(new RegExp(`taking over the stale lock .*pid ${dead}`));
    expect(existsSync(lock)).toBe(false);
  }, 120_000);

  it('sweep holds DIR/.sparsecast.lock: a sweep into a folder locked by a live process is refused with 75', () => {
    const d = join(root, 'sweep-locked');
    makeDir(d, 'test');
    const lock = join(d, LOCK_NAME);
    writeFileSync(lock, JSON.stringify({ pid: process.pid, hostname: hostname(), started: '2026-01-01T00:00:00.000Z', command: 'sparsecast sweep …' }));
    const before = snapshot(d);
    const r = cli(['sweep', ...TRAIN.slice(1), '--method', 'pals', '--grid', 'lambda=1.05,1.1', '--out', d]);
    expect(r.status, r.stderr).toBe(75);
    expect(r.stderr).toMatch(new RegExp(`is in use by another run \\(pid ${process.pid} on ${hostname().replace(/\./g, '\\.')}, started 2026-01-01T00:00:00\\.000Z`));
    expect(r.stdout).toBe('');
    expect(snapshot(d)).toEqual(before); // no run folder started, the lock left as it was
  }, 60_000);

  it('a training started while another runs in the folder is refused; the first completes', async () => {
    const d = join(root, 'race');
    // Long enough (40 steps) that the second start lands well inside it even on a loaded machine.
    const first = spawn(process.execPath, [BIN, ...trainWith({ max_train_batches: '40' }), '--out', d], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    first.stderr.on('data', (x) => (stderr += x));
    const done = new Promise<number | null>((resolve) => first.on('exit', resolve));
    const lock = join(d, LOCK_NAME);
    // Race it as soon as it holds the lock.
    while (!existsSync(lock) && first.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    const second = cli([...TRAIN, '--out', d]);
    expect(second.status).toBe(75);
    expect(second.stderr).toMatch(new RegExp(`is in use by another run \\(pid ${first.pid} on `));
    expect(await done, stderr).toBe(0);
    expect(existsSync(lock)).toBe(false);
  }, 120_000);

  it('--resume with changed flags or data is refused listing each key; unchanged flags resume', () => {
    const d = copy();
    const before = snapshot(d);
    const changed = cli([...trainWith({ pred_len: '48', learning_rate: '0.001' }), '--out', d, '--resume']);
    expect(changed.status).not.toBe(0);
    expect(changed.stderr).toMatch(/--pred_len \(cfg\.predLen\): 24 → 48/);
    expect(changed.stderr).toMatch(/--learning_rate \(learningRate\): 0\.0001 → 0\.001/);
    expect(snapshot(d)).toEqual(before);

    // The same file name pattern (so the split kind is the same), one byte different.
    const data = join(root, 'ETTh1.csv');
    const bytes = readFileSync('data/ETTh1.csv');
    const i = bytes.indexOf(0x2e, 200); // a decimal point's neighbour digit
    bytes[i + 1] = bytes[i + 1] === 0x30 ? 0x31 : 0x30;
    writeFileSync(data, bytes);
    const moved = cli([...trainWith({ data }), '--out', d, '--resume']);
    expect(moved.status).not.toBe(0);
    expect(moved.stderr).toMatch(/--data contents: data\/ETTh1\.csv \(\d+ bytes, sha256 [0-9a-f]{16}…\) → .*ETTh1\.csv/);
    expect(snapshot(d)).toEqual(before);

    // Same flags (thread count may differ: same bytes): resumes; the finished run re-reports its result.
    const same = cli([...TRAIN, '--out', d, '--resume', '--threads', '2']);
    expect(same.status, same.stderr).toBe(0);
    expect(JSON.parse(same.stdout.trim()).mse).toBe(baseMse);
  }, 120_000);

  it('--resume may change --checkpoint_every, and --backend with a warning that it is no longer bit-identical', () => {
    const d = copy();
    const warning = /warning: resuming on backend js \(the checkpoint was written on wasm\): the result will be close to, not bit-identical with, an uninterrupted run/;
    const every = cli([...TRAIN, '--out', d, '--resume', '--checkpoint_every', '1']);
    expect(every.status, every.stderr).toBe(0);
    expect(every.stderr).not.toMatch(/differ|warning: resuming on backend/);
    expect(JSON.parse(every.stdout.trim()).mse).toBe(baseMse);

    const js = cli([...TRAIN, '--out', d, '--resume', '--backend', 'js']);
    expect(js.status, js.stderr).toBe(0);
    expect(js.stderr).toMatch(warning);
    expect(JSON.parse(js.stdout.trim()).backend).toBe('js');
  }, 120_000);
});
