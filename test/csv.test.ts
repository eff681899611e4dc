import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseCsv, CsvError } from '../src/data/csv.ts';
import { fitScaler, splitBorders, inferKind } from '../src/data/dataset.ts';

describe('csv reader', () => {
  it('reads quoted fields, CRLF and chunked input', () => {
    const text = 'date,"a,b",OT\r\n2016-07-01 00:00:00,1.5,"2"\r\n2016-07-01 01:00:00,-3e-1,4\r\n';
    const chunks = text.match(/.{1,5}/gs)!;
    const t = parseCsv(chunks, { file: 'x.csv' });
    expect(t.header).toEqual(['date', 'a,b', 'OT']);
    expect(t.dates).toEqual(['2016-07-01 00:00:00', '2016-07-01 01:00:00']);
    expect(Array.from(t.values)).toEqual([1.5, 2, -0.3, 4]);
  });

  it('names file, line and column of a bad cell', () => {
    const text = 'date,a,OT\n2016-07-01,1,2\n2016-07-02,x1,2\n';
    expect(() => parseCsv(text, { file: 'bad.csv' })).toThrow('bad.csv:3:12: a finite number in column \'a\', found \'x1\'');
    expect(() => parseCsv('date,a\n2016,\n', { file: 'e.csv' })).toThrow(/e\.csv:2:6: a number in column 'a', found an empty cell/);
    expect(() => parseCsv('date,a\n2016,1,2\n', { file: 'f.csv' })).toThrow(/f\.csv:2:.*2 fields as in the header, found 3/);
    expect(() => parseCsv('time,a\n', { file: 'h.csv' })).toThrow(CsvError);
    // An unclosed quote is reported where it opens, not where the file ends.
    expect(() => parseCsv('date,a\n2016,"1\n2017,2\n2018,3\n', { file: 'q.csv' })).toThrow('q.csv:2:6: a quote opened here is never closed (the file ends at line 5 inside it)');
    expect(() => parseCsv('date,a\n2016,1e999\n', { file: 'i.csv' })).toThrow(/f32 range/);
  });

  it('fills empty cells only when asked', () => {
    const t = parseCsv('date,a\n1,5\n2,\n', { fillEmpty: 'previous' });
    expect(Array.from(t.values)).toEqual([5, 5]);
  });

  it('reads the shipped ETTh1 with the TSLib splits', () => {
    const t = parseCsv(readFileSync('data/ETTh1.csv', 'utf8'), { file: 'data/ETTh1.csv' });
    expect([t.rows, t.cols]).toEqual([17420, 7]);
    expect(t.header.at(-1)).toBe('OT');
    expect(inferKind('data/ETTh1.csv')).toBe('ETTh');
    expect(splitBorders('ETTh', t.rows, 96)).toEqual({ train: [0, 8640], val: [8544, 11520], test: [11424, 14400] });
    const s = fitScaler(t.values, t.cols, 0, 8640);
    // Mean of OT over the 8640 training rows, computed independently in f64 here.
    let m = 0;
    for (let r = 0; r < 8640; r++) m += t.values[r * 7 + 6]!;
    expect(s.mean[6]).toBeCloseTo(m / 8640, 4);
  });

  it('leaves a constant column unscaled by sklearn\'s rule, also where its mean does not round exactly', () => {
    // 0.1 repeated sums to a mean 9e-16 off, so the standard deviation came out 9e-16, not 0: the column was
    // scaled to -1 throughout and a later 0.2 to ~1e14. sklearn's _is_constant_feature calls a variance within
    // the two-pass rounding error constant (var ≤ n·ε·var + (n·mean·ε)²) and keeps std 1.
    const n = 560;
    const values = new Float64Array(3 * (n + 1));
    for (let r = 0; r <= n; r++) {
      values[3 * r] = r < n ? 0.1 : 0.2; // constant over the fitted rows, then it moves
      values[3 * r + 1] = 1 + (r % 2 ? 1e-10 : -1e-10); // tiny but real variation: scaled (sklearn scales it too)
      values[3 * r + 2] = 5;
    }
    const constant: Array<[number, number]> = [];
    const s = fitScaler(values, 3, 0, n, (c, v) => constant.push([c, v]));
    expect(constant).toEqual([[0, 0.1], [2, 5]]);
    expect([s.std[0], s.std[2]]).toEqual([1, 1]);
    expect(s.std[1]! / 1e-10).toBeCloseTo(1, 5);
    expect(Math.abs((0.1 - s.mean[0]!) / s.std[0]!)).toBeLessThan(1e-14);
    expect((0.2 - s.mean[0]!) / s.std[0]!).toBeCloseTo(0.1, 12);
  });

  it('uses the 70/10/20 split for exchange_rate', () => {
    const t = parseCsv(readFileSync('data/exchange_rate.csv', 'utf8'));
    expect(t.rows).toBe(7588);
    expect(splitBorders('custom', t.rows, 96)).toEqual({ train: [0, 5311], val: [5311 - 96, 6071], test: [6071 - 96, 7588] });
  });
});
