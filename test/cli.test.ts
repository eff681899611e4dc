// The `sparsecast` command end to end: train → one JSON line with every field; eval reproduces the test
// metrics from the saved model; predict writes de-normalised forecasts with dates; bad flags fail clearly.
import { describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readSafetensors } from '../src/io/safetensors.ts';

import { runCli as cli, TINY_MODEL as SMALL } from './shared/cli.ts';

describe('cli', () => {
  it('train, eval and predict', () => {
    const out = mkdtempSync(join(tmpdir(), 'sc-cli-'));
    const t = cli(['train', '--data', 'data/ETTh1.csv', '--backend', 'wasm', ...SMALL, '--train_epochs', '1', '--max_train_batches', '5', '--out', out]);
    expect(t.status, t.stderr).toBe(0);
    const lines = t.stdout.trim().split('\n');
    expect(lines).toHaveLength(1); // exactly one JSON line on stdout
    const r = JSON.parse(lines[0]!);
    for (const k of ['model', 'data', 'pred_len', 'method', 'backend', 'mse', 'mae', 'params', 'nnz', 'sparsity', 'flops_dense', 'flops_sparse', 'epochs_run', 'train_seconds', 'best_val']) {
      expect(r, k).toHaveProperty(k);
    }
    expect(r.method).toBe('dense');
    expect(r.naive_mse).toBeGreaterThan(0);
    for (const f of ['checkpoint.safetensors', 'best.safetensors', 'model.safetensors', 'config.json', 'log.jsonl', 'result.txt', 'loss.svg', 'forecast-0.svg']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const model = readSafetensors(readFileSync(join(out, 'model.safetensors')));
    expect(model.tensors.has('encoder.attn_layers.0.attention.query_projection.weight')).toBe(true);
    expect(readFileSync(join(out, 'result.txt'), 'utf8')).toMatch(/mse:[\d.]+, mae:[\d.]+/);

    const e = cli(['eval', '--checkpoint', out]);
    expect(e.status, e.stderr).toBe(0);
    const re = JSON.parse(e.stdout.trim());
    expect(re.mse).toBe(r.mse);
    expect(re.mae).toBe(r.mae);
    // Two wasm threads: the same metrics (kernels split bit-identically), and the process still exits.
    const e2 = cli(['eval', '--checkpoint', out, '--threads', '2']);
    expect(e2.status, e2.stderr).toBe(0);
    const re2 = JSON.parse(e2.stdout.trim());
    expect([re2.mse, re2.mae]).toEqual([r.mse, r.mae]);

    const csv = join(out, 'forecast.csv');
    const p = cli(['predict', '--checkpoint', out, '--data', 'data/ETTh1.csv', '--out', csv]);
    expect(p.status, p.stderr).toBe(0);
    const rows = readFileSync(csv, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT');
    expect(rows).toHaveLength(25);
    expect(rows[1]!.startsWith('2018-06-26 20:00:00,')).toBe(true);
    // De-normalised: oil temperatures in °C, not z-scores.
    const ot = rows.slice(1).map((l) => Number(l.split(',')[7]));
    expect(Math.max(...ot.map(Math.abs))).toBeGreaterThan(2);

    // A fresh run into a folder whose run did not finish would overwrite its checkpoint: refused, untouched.
    const unfinished = mkdtempSync(join(tmpdir(), 'sc-cli-unfinished-'));
    cpSync(out, unfinished, { recursive: true });
    rmSync(join(unfinished, 'result.json'));
    const ckpt = readFileSync(join(unfinished, 'checkpoint.safetensors'));
    const u = cli(['train', '--data', 'data/ETTh1.csv', ...SMALL, '--train_epochs', '1', '--max_train_batches', '5', '--out', unfinished]);
    expect(u.status).not.toBe(0);
    expect(u.stderr).toMatch(/holds an unfinished run .*continue it with --resume/);
    expect(readFileSync(join(unfinished, 'checkpoint.safetensors')).equals(ckpt)).toBe(true);

    // Into a finished run's folder, a fresh run replaces it: eval then reads the new run's model, never the old
    // weights under the new config (here another pred_len, so a mix could not even load).
    const again = cli(['train', '--data', 'data/ETTh1.csv', ...SMALL, '--pred_len', '12', '--train_epochs', '1', '--max_train_batches', '3', '--out', out]);
    expect(again.status, again.stderr).toBe(0);
    const e3 = cli(['eval', '--checkpoint', out]);
    expect(e3.status, e3.stderr).toBe(0);
    expect(JSON.parse(e3.stdout.trim()).pred_len).toBe(12);
    expect(JSON.parse(e3.stdout.trim()).mse).toBe(JSON.parse(again.stdout.trim()).mse);
  }, 300_000);

  it('bad input gives one clear line', () => {
    const a = cli(['train', '--data', 'data/ETTh1.csv', '--preset', 'huge']);
    expect(a.status).toBe(1);
    expect(a.stderr).toMatch(/--preset must be small or full, got 'huge'/);
    const b = cli(['train', '--data', 'data/ETTh1.csv', '--seq_len', 'abc']);
    expect(b.stderr).toMatch(/--seq_len expects an integer in \[1, 5000\], got 'abc'/);
    const c = cli(['train', '--data', 'data/ETTh1.csv', '--method', 'magic']);
    expect(c.stderr).toMatch(/--method must be one of .*pals.*, got 'magic'/);
    const d = cli(['train', '--data', 'data/ETTh1.csv', '--target', 'XX']);
    expect(d.stderr).toMatch(/'XX'/);
    const e = cli(['eval', '--checkpoint', '/nonexistent']);
    expect(e.stderr).toMatch(/no config\.json/);
    const f = cli(['train', '--data', 'data/ETTh1.csv', '--threads', '0']);
    expect(f.stderr).toMatch(/--threads must be in \[1, 256\], got 0/);
  }, 120_000);
});

describe("scripts/main.sh (the README's main command), against the build the tests made", () => {
  const main = (...args: string[]) => spawnSync('bash', ['scripts/main.sh', ...args], {
    encoding: 'utf8', env: { ...process.env, SPARSECAST_SKIP_SETUP: '1' }, timeout: 300_000,
  });
  const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;

  it('trains PALS by default and passes its arguments to train (--method dense drops --val_batches); the report is of --out', () => {
    const base = mkdtempSync(join(tmpdir(), 'sc-main-'));
    const cut = ['--train_epochs', '1', '--max_train_batches', '2'];
    const pals = main(...cut, '--out', join(base, 'pals'));
    expect(pals.status, pals.stderr).toBe(0);
    expect(lastJson(pals.stdout)).toMatchObject({ model: 'Transformer', data: 'ETTh1.csv', method: 'pals', val_batches: 10, pred_len: 96 });
    expect(existsSync(join(base, 'pals', 'report.html'))).toBe(true);
    const dense = main(...cut, '--method', 'dense', `--out=${join(base, 'dense')}`);
    expect(dense.status, dense.stderr).toBe(0);
    const d = lastJson(dense.stdout);
    expect(d.method).toBe('dense');
    expect(d).not.toHaveProperty('val_batches');
    expect(existsSync(join(base, 'dense', 'report.html'))).toBe(true);
  }, 300_000);
});
