// The CLI on small synthetic files: predict and eval take a file's columns by name, eval --data scores the
// given file, short files are refused before anything is written, and published-file quirks (repeated
// dates, Latin-1 headers, BOM) load with a warning as TSLib loads them.
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { runCli as cli } from './shared/cli.ts';
const TINY = ['--seq_len', '48', '--label_len', '24', '--pred_len', '24', '--d_model', '16', '--n_heads', '2', '--e_layers', '1', '--d_ff', '32',
  '--train_epochs', '1', '--max_train_batches', '3', '--batch_size', '8'];

const dir = mkdtempSync(join(tmpdir(), 'sc-data-'));
const path = (name: string) => join(dir, name);

/** 400 hourly rows; `cols` picks and orders the columns; `scale` multiplies every value. */
function write(name: string, cols: string[], opts: { scale?: number; header?: string; repeatAt?: number } = {}): string {
  const lines = [opts.header ?? ['date', ...cols].join(',')];
  for (let i = 0; i < 400; i++) {
    const h = opts.repeatAt !== undefined && i >= opts.repeatAt ? i - 1 : i;
    const date = new Date(Date.UTC(2020, 0, 1, h)).toISOString().slice(0, 19).replace('T', ' ');
    const v: Record<string, number> = { a: Math.sin(i / 7) * 3 + 10, b: Math.cos(i / 5) * 2 - 1, OT: Math.sin(i / 11) + i / 500, extra: 1 };
    lines.push([date, ...cols.map((c) => (v[c]! * (opts.scale ?? 1)).toFixed(4))].join(','));
  }
  writeFileSync(path(name), `${lines.join('\n')}\n`);
  return path(name);
}

let run = '';
let trained: { mse: number };

beforeAll(() => {
  run = path('run');
  const t = cli(['train', '--data', write('train.csv', ['a', 'b', 'OT']), ...TINY, '--out', run]);
  expect(t.status, t.stderr).toBe(0);
  trained = JSON.parse(t.stdout.trim());
}, 120_000);

describe('columns by name', () => {
  it('predict: a reordered file gives the same forecast bytes; missing, renamed or extra columns are refused', () => {
    const a = cli(['predict', '--checkpoint', run, '--data', path('train.csv'), '--out', path('f-ordered.csv')]);
    expect(a.status, a.stderr).toBe(0);
    const b = cli(['predict', '--checkpoint', run, '--data', write('reordered.csv', ['OT', 'b', 'a']), '--out', path('f-reordered.csv')]);
    expect(b.status, b.stderr).toBe(0);
    expect(readFileSync(path('f-reordered.csv'))).toEqual(readFileSync(path('f-ordered.csv')));
    expect(readFileSync(path('f-ordered.csv'), 'utf8').split('\n')[0]).toBe('date,a,b,OT');

    const missing = cli(['predict', '--checkpoint', run, '--data', write('missing.csv', ['a', 'OT']), '--out', path('f-x.csv')]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain(`${path('missing.csv')}: columns do not match the model's`);
    expect(missing.stderr).toMatch(/missing 'b'\n/);
    const renamed = cli(['predict', '--checkpoint', run, '--data', write('renamed.csv', ['a', 'b', 'OT'], { header: 'date,a,B,OT' }), '--out', path('f-x.csv')]);
    expect(renamed.status).not.toBe(0);
    expect(renamed.stderr).toMatch(/missing 'b'; unexpected 'B'/);
    const extra = cli(['eval', '--checkpoint', run, '--data', write('extra.csv', ['a', 'extra', 'b', 'OT'])]);
    expect(extra.status).not.toBe(0);
    expect(extra.stderr).toMatch(/extra\.csv: columns do not match.*: unexpected 'extra'/);
    expect(existsSync(path('f-x.csv'))).toBe(false);
  });

  it('eval --data scores that file\'s test split with the trained scaler', () => {
    // The training file under another name and reordered: the same score as training reported.
    const same = cli(['eval', '--checkpoint', run, '--data', path('reordered.csv')]);
    expect(same.status, same.stderr).toBe(0);
    const s = JSON.parse(same.stdout.trim());
    expect([s.mse, s.mae]).toEqual([trained.mse, (trained as unknown as { mae: number }).mae]);
    expect(s.data).toBe('reordered.csv');
    // Other values: another score. Scaled ×2 with the trained scaler (not refit), the file's normalised
    // values differ, so the error does too (a refit scaler would make the two files look alike).
    const other = cli(['eval', '--checkpoint', run, '--data', write('scaled.csv', ['a', 'b', 'OT'], { scale: 2 })]);
    expect(other.status, other.stderr).toBe(0);
    const o = JSON.parse(other.stdout.trim());
    expect(o.data).toBe('scaled.csv');
    expect(o.mse).not.toBe(trained.mse);
    // By hand: repeating the last value errs by Δx/σ per step; doubling x with σ kept doubles that, so the
    // naive baseline's mse is 4× (up to the files' 4-decimal rounding). A refit σ would leave it unchanged.
    expect(o.naive_mse / s.naive_mse).toBeCloseTo(4, 2);
  });
});

describe('short files', () => {
  it('header-only and 10-row files are refused naming the split and rows; nothing is written', () => {
    writeFileSync(path('header.csv'), 'date,a,b,OT\n');
    const h = cli(['train', '--data', path('header.csv'), ...TINY, '--out', path('out-header')]);
    expect(h.status).not.toBe(0);
    expect(h.stderr).toContain(`${path('header.csv')}: no data rows after the header`);
    expect(existsSync(path('out-header'))).toBe(false);

    writeFileSync(path('ten.csv'), readFileSync(path('train.csv'), 'utf8').split('\n').slice(0, 11).join('\n'));
    const t = cli(['train', '--data', path('ten.csv'), ...TINY, '--out', path('out-ten')]);
    expect(t.status).not.toBe(0);
    expect(t.stderr).toMatch(/ten\.csv: too short: .* of its 10 data rows; the train split has 7 rows \(lines 2–8\) and needs 79/);
    expect(existsSync(path('out-ten'))).toBe(false);

    // Within the position table (the flag's own range), beyond this file: the data set names the split.
    const big = cli(['train', '--data', path('train.csv'), ...TINY, '--seq_len', '4000', '--out', path('out-big')]);
    expect(big.status).not.toBe(0);
    expect(big.stderr).toMatch(/the train split has 280 rows .* and needs 4031.*the most that fits is --seq_len 249\./);
    expect(existsSync(path('out-big'))).toBe(false);

    const p = cli(['predict', '--checkpoint', run, '--data', path('ten.csv'), '--out', path('f-ten.csv')]);
    expect(p.status).not.toBe(0);
    expect(p.stderr).toMatch(/ten\.csv: 10 data rows; forecasting after the file's end needs its last seq_len = 48 rows/);
  });
});

describe('published-file quirks', () => {
  it('a repeated timestamp loads with one warning naming the line; --strict_dates refuses it', () => {
    const file = write('repeat.csv', ['a', 'b', 'OT'], { repeatAt: 200 });
    const ok = cli(['eval', '--checkpoint', run, '--data', file]);
    expect(ok.status, ok.stderr).toBe(0);
    const warnings = ok.stderr.split('\n').filter((l) => l.startsWith('warning:'));
    expect(warnings).toEqual([expect.stringContaining(`${file}:202: 1 date not after the row before`)]);
    const strict = cli(['train', '--data', file, ...TINY, '--strict_dates', '--out', path('out-strict')]);
    expect(strict.status).not.toBe(0);
    expect(strict.stderr).toContain(`${file}:202: dates in increasing order (--strict_dates)`);
    expect(existsSync(path('out-strict'))).toBe(false);
  });

  it('a Latin-1 header loads with a warning and keeps its names; a BOM is dropped', () => {
    const text = readFileSync(path('train.csv'), 'utf8').replace('date,a,b,OT', 'date,a (W/m\u00b2),b,OT');
    writeFileSync(path('latin1.csv'), Buffer.from(text, 'latin1'));
    const t = cli(['train', '--data', path('latin1.csv'), ...TINY, '--out', path('run-latin1')]);
    expect(t.status, t.stderr).toBe(0);
    expect(t.stderr).toContain(`warning: ${path('latin1.csv')}:1:12: not valid UTF-8; read the whole file as Latin-1`);
    const p = cli(['predict', '--checkpoint', path('run-latin1'), '--data', path('latin1.csv'), '--out', path('f-latin1.csv')]);
    expect(p.status, p.stderr).toBe(0);
    expect(readFileSync(path('f-latin1.csv'), 'utf8').split('\n')[0]).toBe('date,a (W/m²),b,OT');

    writeFileSync(path('bom.csv'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(path('train.csv'))]));
    const b = cli(['predict', '--checkpoint', run, '--data', path('bom.csv'), '--out', path('f-bom.csv')]);
    expect(b.status, b.stderr).toBe(0);
    expect(readFileSync(path('f-bom.csv'))).toEqual(readFileSync(path('f-ordered.csv')));
  });
});

describe("predict's file and export's target", () => {
  it('features MS: predict writes the date and the trained target column only; an ETT file whose --target is not its last column warns', () => {
    const ms = path('run-ms');
    const t = cli(['train', '--data', path('train.csv'), ...TINY, '--features', 'MS', '--out', ms]);
    expect(t.status, t.stderr).toBe(0);
    const p = cli(['predict', '--checkpoint', ms, '--data', path('train.csv'), '--out', path('f-ms.csv')]);
    expect(p.status, p.stderr).toBe(0);
    const lines = readFileSync(path('f-ms.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('date,OT');
    expect(lines).toHaveLength(25);
    expect(lines.slice(1).every((l) => l.split(',').length === 2)).toBe(true);
    // TSLib's Dataset_ETT scores the last column (OT) under MS whatever --target says.
    const ett = cli(['train', '--data', 'data/ETTh1.csv', ...TINY, '--features', 'MS', '--target', 'HUFL']);
    expect(ett.status, ett.stderr).toBe(0);
    expect(ett.stderr).toMatch(/features MS on an ETTh file score its last column 'OT', as TSLib's Dataset_ETT does, not --target 'HUFL'/);
  }, 120_000);

  it('quotes a column name that holds a comma, so the forecast reads back with the same columns', () => {
    const file = write('quoted.csv', ['a', 'b', 'OT'], { header: 'date,"a,1",b,OT' });
    const q = path('run-quoted');
    expect(cli(['train', '--data', file, ...TINY, '--out', q]).status).toBe(0);
    const p = cli(['predict', '--checkpoint', q, '--data', file, '--out', path('f-quoted.csv')]);
    expect(p.status, p.stderr).toBe(0);
    const text = readFileSync(path('f-quoted.csv'), 'utf8');
    expect(text.split('\n')[0]).toBe('date,"a,1",b,OT');
    const e = cli(['eval', '--checkpoint', q, '--data', path('f-quoted.csv')]);
    // Read back by name: the columns match (it is too short to score, which is a different refusal).
    expect(e.stderr).not.toMatch(/columns do not match|fields as in the header/);
  }, 120_000);

  it('monthly data: predict dates the forecast by calendar months', () => {
    const lines = ['date,a,OT'];
    for (let i = 0; i < 300; i++) lines.push(`${new Date(Date.UTC(1990, i, 1)).toISOString().slice(0, 10)},${Math.sin(i / 5).toFixed(4)},${(i / 100).toFixed(4)}`);
    writeFileSync(path('monthly.csv'), `${lines.join('\n')}\n`);
    const m = path('run-monthly');
    const t = cli(['train', '--data', path('monthly.csv'), '--model', 'DLinear', '--freq', 'm', '--seq_len', '24', '--label_len', '12', '--pred_len', '6',
      '--train_epochs', '1', '--max_train_batches', '2', '--batch_size', '8', '--out', m]);
    expect(t.status, t.stderr).toBe(0);
    const p = cli(['predict', '--checkpoint', m, '--data', path('monthly.csv'), '--out', path('f-monthly.csv')]);
    expect(p.status, p.stderr).toBe(0);
    const dates = readFileSync(path('f-monthly.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[0]);
    expect(dates).toEqual(['2015-01-01 00:00:00', '2015-02-01 00:00:00', '2015-03-01 00:00:00', '2015-04-01 00:00:00', '2015-05-01 00:00:00', '2015-06-01 00:00:00']);
    expect(t.stderr + p.stderr).not.toMatch(/steps a forecast's dates/);
  }, 120_000);

  it('--freq m on daily rows: train and predict warn, naming the spacing and the freq that matches', () => {
    const lines = ['date,a,OT'];
    for (let i = 0; i < 300; i++) lines.push(`${new Date(Date.UTC(2020, 0, 1 + i)).toISOString().slice(0, 10)},${Math.sin(i / 5).toFixed(4)},${(i / 100).toFixed(4)}`);
    writeFileSync(path('daily.csv'), `${lines.join('\n')}\n`);
    const m = path('run-daily-m');
    const t = cli(['train', '--data', path('daily.csv'), '--model', 'DLinear', '--freq', 'm', '--seq_len', '24', '--label_len', '12', '--pred_len', '6',
      '--train_epochs', '1', '--max_train_batches', '2', '--batch_size', '8', '--out', m]);
    expect(t.status, t.stderr).toBe(0);
    const warning = /daily\.csv: --freq m steps a forecast's dates by a calendar month, but the rows are 1 d apart \(median\).*--freq d matches the rows/;
    expect(t.stderr).toMatch(warning);
    const p = cli(['predict', '--checkpoint', m, '--data', path('daily.csv'), '--out', path('f-daily.csv')]);
    expect(p.status, p.stderr).toBe(0);
    expect(p.stderr).toMatch(warning);
  }, 120_000);

  it("export and predict refuse an --out that is one of the run's own files, a folder, or in a missing folder, before any work", () => {
    const before = readFileSync(join(run, 'config.json'));
    const ex = cli(['export', '--checkpoint', run, '--out', join(run, 'config.json')]);
    expect(ex.status).not.toBe(0);
    expect(ex.stderr).toContain(`sparsecast export: --out ${join(run, 'config.json')} would overwrite the run's own config.json`);
    expect(readFileSync(join(run, 'config.json'))).toEqual(before);
    const pr = cli(['predict', '--checkpoint', run, '--data', path('train.csv'), '--out', join(run, 'model.safetensors')]);
    expect(pr.stderr).toContain("would overwrite the run's own model.safetensors");
    expect(cli(['export', '--checkpoint', run, '--out', join(dir, 'no-such-folder', 'm.sc')]).stderr).toContain('which is not an existing folder');
    expect(cli(['predict', '--checkpoint', run, '--data', path('train.csv'), '--out', dir]).stderr).toContain(`--out ${dir} is a folder`);
    // Beside the run is fine.
    expect(cli(['export', '--checkpoint', run, '--out', join(run, 'model.sc')]).status).toBe(0);
  }, 120_000);
});
