// Reading files as TSLib reads them (BOM, Latin-1 headers, repeated dates kept with a warning), refusing
// files too short for a window with what would fit, and matching a trained model's columns by name.
import { describe, expect, it } from 'vitest';
import { decodeText } from '../src/data/decode.ts';
import { parseCsv, parseCsvBytes } from '../src/data/csv.ts';
import { checkSplitSizes, splitBorders, splitsFit } from '../src/data/dataset.ts';
import { ForecastDataset, type DatasetOptions } from '../src/data/forecast-dataset.ts';
import { matchTrainedColumns } from '../src/data/columns.ts';
import { float32Text } from '../src/data/float32-text.ts';
import { calendarFreqMismatch } from '../src/data/sampling-interval.ts';

const bytes = (...parts: (string | number[])[]) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...new TextEncoder().encode(p)] : p)));

/** `n` hourly rows of columns a, b, OT from 2020-01-01 00:00. */
function csv(n: number, header = 'date,a,b,OT'): string {
  const rows = [header];
  for (let i = 0; i < n; i++) rows.push(`${new Date(Date.UTC(2020, 0, 1, i)).toISOString().slice(0, 19).replace('T', ' ')},${i},${2 * i},${Math.sin(i)}`);
  return `${rows.join('\n')}\n`;
}

const opts = (o: Partial<DatasetOptions> = {}): DatasetOptions => ({
  kind: 'custom', features: 'M', target: 'OT', seqLen: 8, labelLen: 4, predLen: 4, freq: 'h', file: 'f.csv', ...o,
});

describe('decoding', () => {
  it('reads UTF-8 as is and drops a BOM', () => {
    expect(decodeText(bytes('date,µ\n'))).toEqual({ text: 'date,µ\n', warnings: [] });
    expect(decodeText(bytes([0xef, 0xbb, 0xbf], 'date,a\n'))).toEqual({ text: 'date,a\n', warnings: [] });
    const t = parseCsvBytes(bytes([0xef, 0xbb, 0xbf], 'date,OT\n2020-01-01,1\n'));
    expect(t.header).toEqual(['date', 'OT']);
  });

  it('reads UTF-16 with its byte-order mark (with a warning) and refuses NUL bytes elsewhere, naming where', () => {
    const text = 'date,OT\n2020-01-01,1\n';
    const le = new Uint8Array(2 + 2 * text.length);
    le.set([0xff, 0xfe]);
    for (let i = 0; i < text.length; i++) le[2 + 2 * i] = text.charCodeAt(i);
    const d = decodeText(le, 'u.csv');
    expect(d.text).toBe(text);
    expect(d.warnings[0]).toMatch(/^u\.csv: UTF-16 \(little-endian, byte-order mark FF FE\)/);
    const be = new Uint8Array(2 + 2 * text.length);
    be.set([0xfe, 0xff]);
    for (let i = 0; i < text.length; i++) be[3 + 2 * i] = text.charCodeAt(i);
    expect(decodeText(be, 'b.csv').text).toBe(text);
    // Without the mark: the first NUL byte, by line and column.
    expect(() => decodeText(le.subarray(2), 'n.csv')).toThrow(/^n\.csv:1:2: a NUL byte — a binary file, or UTF-16 text without its byte-order mark/);
    expect(() => decodeText(bytes('date,OT\n2020', [0], ',1\n'), 'z.csv')).toThrow(/^z\.csv:2:5: a NUL byte/);
  });

  it('reads a file that is not UTF-8 as Latin-1, naming the first such line and column', () => {
    // weather.csv style: "W/m²" with the single byte 0xB2, "°C" with 0xB0.
    const d = decodeText(bytes('date,SWDR (W/m', [0xb2], '),T (', [0xb0], 'C)\n2020-01-01,1,2\n'), 'w.csv');
    expect(d.text.split('\n')[0]).toBe('date,SWDR (W/m²),T (°C)');
    expect(d.warnings).toHaveLength(1);
    expect(d.warnings[0]).toMatch(/^w\.csv:1:15: not valid UTF-8; read the whole file as Latin-1/);
    // A bad byte further down is found on its line; valid multi-byte UTF-8 before it does not count.
    const later = decodeText(bytes('date,µ\n2020,1\n2020,', [0xe9], '\n'), 'l.csv');
    expect(later.warnings[0]).toMatch(/^l\.csv:3:6:/);
    // A truncated sequence and an overlong form are invalid too.
    expect(decodeText(bytes('ab', [0xe2, 0x82]), 't').warnings[0]).toMatch(/^t:1:3:/);
    expect(decodeText(bytes([0xc0, 0x80]), 'o').warnings[0]).toMatch(/^o:1:1:/);
    const warned: string[] = [];
    const t = parseCsvBytes(bytes('date,a (W/m', [0xb2], ')\n2020-01-01,1\n'), { file: 'x.csv', onWarning: (m) => warned.push(m) });
    expect(t.header).toEqual(['date', 'a (W/m²)']);
    expect(warned).toHaveLength(1);
  });
});

describe('csv layout', () => {
  it('takes the date column by name, anywhere, and records each row\'s line', () => {
    const t = parseCsv('a,date,OT\n1,2020-01-01,2\n\n3,2020-01-02,4\n', { file: 'd.csv' });
    expect(t.header).toEqual(['date', 'a', 'OT']);
    expect(t.dates).toEqual(['2020-01-01', '2020-01-02']);
    expect(Array.from(t.values)).toEqual([1, 2, 3, 4]);
    expect(t.lines).toEqual([2, 4]); // the blank line 3 is skipped but counted
    expect(() => parseCsv('a,date\n1,x\n2,\n', { file: 'e.csv' })).toThrow(/e\.csv:3:3: a date, found an empty cell/);
    expect(() => parseCsv('a,b\n', { file: 'h.csv' })).toThrow(/h\.csv:1:1: a header with a column named 'date'/);
  });
});

describe('a constant column', () => {
  it('is warned of, naming the file, the column and its value', () => {
    const rows = Array.from({ length: 400 }, (_, i) => `2020-01-01 ${String(i % 24).padStart(2, '0')}:00:00,0.1,${Math.sin(i)},${Math.cos(i)}`);
    const warned: string[] = [];
    new ForecastDataset(parseCsv(`date,a,b,OT\n${rows.join('\n')}\n`), { ...opts({ file: 'c.csv' }), onWarning: (m) => warned.push(m) });
    expect(warned.filter((w) => w.includes('constant'))).toEqual([
      "c.csv: column 'a' is constant over the 280 training rows (0.1): it is centred and not scaled (std 1), as TSLib's StandardScaler leaves it, and gives the model nothing to learn from there",
    ]);
  });
});

describe('data too short', () => {
  it('refuses a header-only file naming it', () => {
    expect(() => new ForecastDataset(parseCsv('date,a,b,OT\n'), opts({ file: 'empty.csv' }))).toThrow('empty.csv: no data rows after the header');
  });

  it('needs seq_len + pred_len rows in every split, exactly as TSLib\'s borders give', () => {
    // TSLib's __len__ is border2 − border1 − seq_len − pred_len + 1; a split fits when that is ≥ 1 and
    // border1 ≥ 0. Check the rule against that formula for every length around the edge.
    const need = { seqLen: 8, predLen: 4 };
    for (let rows = 1; rows <= 80; rows++) {
      const b = splitBorders('custom', rows, 8);
      const tslib = (['train', 'val', 'test'] as const).every((s) => b[s][0] >= 0 && b[s][1] - b[s][0] - 8 - 4 + 1 >= 1);
      expect(splitsFit('custom', rows, need, ['train', 'val', 'test']), `rows ${rows}`).toBe(tslib);
    }
    // 31 rows: train 21, test 6, val 4 (val and test start 8 early): fits; 30 rows: val has 3 < pred_len.
    expect(() => new ForecastDataset(parseCsv(csv(31)), opts())).not.toThrow();
    expect(() => new ForecastDataset(parseCsv(csv(30)), opts({ file: 'short.csv' }))).toThrow(
      /^short\.csv: too short: one window \(seq_len 8 \+ pred_len 4 = 12 rows\).*the val split has 11 rows \(lines 15–25\) and needs 12\. With the other flags unchanged, the most that fits is --pred_len 3\.$/,
    );
  });

  it('names every short split and the flags that fit', () => {
    let msg = '';
    try {
      checkSplitSizes('ten.csv', 'custom', 10, { seqLen: 48, predLen: 24 }, ['train', 'val', 'test']);
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/^ten\.csv: too short: .* of its 10 data rows; the train split has 7 rows \(lines 2–8\) and needs 72; the val split would start 41 rows before the file's first row/);
    expect(msg).toMatch(/No --seq_len, --pred_len or --batch_size fits/);
    // With a batch: whole batches are needed (the loaders drop a partial one), and --batch_size is offered.
    expect(() => checkSplitSizes('b.csv', 'custom', 400, { seqLen: 48, predLen: 24, batchSize: 32 }, ['train', 'val', 'test'])).toThrow(
      /the val split has 88 rows \(lines 234–321\) and needs 103\. With the other flags unchanged, the most that fits is --pred_len 9 or --batch_size 17\.$/,
    );
    expect(() => checkSplitSizes('b.csv', 'custom', 400, { seqLen: 48, predLen: 24, batchSize: 17 }, ['train', 'val', 'test'])).not.toThrow();
    // Only the splits asked for (eval scores the test split).
    expect(() => checkSplitSizes('b.csv', 'custom', 400, { seqLen: 48, predLen: 24, batchSize: 32 }, ['test'])).not.toThrow();
    // ETT files split by months: too few rows for the months names the fix.
    expect(() => checkSplitSizes('ETTh1.csv', 'ETTh', 100, { seqLen: 8, predLen: 4 }, ['train'])).toThrow(/need 14400 data rows, this one has 100; --data_kind custom/);
  });

  it('predicting needs only seq_len rows', () => {
    const scaler = { mean: new Float64Array(3), std: new Float64Array(3).fill(1) };
    expect(new ForecastDataset(parseCsv(csv(8)), opts({ whole: true, scaler })).dates).toHaveLength(8);
    expect(() => new ForecastDataset(parseCsv(csv(7)), opts({ whole: true, scaler, file: 'p.csv' }))).toThrow("p.csv: 7 data rows; forecasting after the file's end needs its last seq_len = 8 rows");
  });
});

describe('options', () => {
  // Each was accepted: features 'X' read as M, kind 'bogus' as custom, seqLen 2.5 gave 8626.5 windows, labelLen
  // past seqLen read the decoder's start token from before the window, a scaler std of 0 made every value NaN.
  const table = () => parseCsv(csv(100));
  const cases: [string, Partial<DatasetOptions>, string][] = [
    ['an unknown features', { features: 'X' as never }, 'ForecastDataset: features (--features) must be M, S or MS, got "X"'],
    ['an unknown kind', { kind: 'bogus' as never }, 'ForecastDataset: kind (--data_kind) must be ETTh, ETTm or custom'],
    ['seqLen 0', { seqLen: 0 }, 'ForecastDataset: seqLen (--seq_len) must be an integer at least 1, got 0'],
    ['a fractional seqLen', { seqLen: 2.5 }, 'ForecastDataset: seqLen (--seq_len) must be an integer at least 1, got 2.5'],
    ['predLen 0', { predLen: 0 }, 'ForecastDataset: predLen (--pred_len) must be an integer at least 1, got 0'],
    ['labelLen above seqLen', { labelLen: 9 }, 'ForecastDataset: labelLen (--label_len) must be an integer in [0, 8], got 9'],
    ['batchSize 0', { batchSize: 0 }, 'ForecastDataset: batchSize (--batch_size) must be an integer at least 1, got 0'],
    ['a scaler std of 0', { scaler: { mean: Float64Array.of(0, 0, 0), std: Float64Array.of(1, 0, 1) } }, 'ForecastDataset: scaler.std[1] = 0 must be a positive number'],
    // A misspelled option was ignored: the CLI flag's spelling ran without strict date checks.
    ['a misspelled option', { strict_dates: true } as never, 'ForecastDataset: unknown option strict_dates; did you mean strictDates?'],
  ];
  for (const [what, o, message] of cases) {
    it(`refuses ${what}, naming the option`, () => {
      expect(() => new ForecastDataset(table(), opts(o))).toThrow(message);
    });
  }
});

describe('date order', () => {
  /** 60 hourly rows with row 30 repeating row 29's time and row 45 going back an hour. */
  const text = () => {
    const lines = csv(60).split('\n');
    lines[31] = lines[30]!.replace(/,.*/, '') + lines[31]!.slice(lines[31]!.indexOf(','));
    lines[46] = lines[44]!.replace(/,.*/, '') + lines[46]!.slice(lines[46]!.indexOf(','));
    return lines.join('\n');
  };

  it('keeps repeated and out-of-order dates in file order with one warning naming the lines', () => {
    const warned: string[] = [];
    const ds = new ForecastDataset(parseCsv(text()), opts({ file: 'dup.csv', onWarning: (m) => warned.push(m) }));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(/^dup\.csv:32, dup\.csv:47: 2 dates not after the row before \(first: '2020-01-02 05:00:00' repeats '2020-01-02 05:00:00' \(line 31\)\); kept in file order/);
    expect(ds.dates).toHaveLength(60);
    // Time features from the dates as given: the repeated row has the same marks as the one before.
    const F = ds.markDim;
    expect(Array.from(ds.marks.subarray(30 * F, 31 * F))).toEqual(Array.from(ds.marks.subarray(29 * F, 30 * F)));
  });

  it('names the file, line, column and column name of a date it cannot read, wherever the date column is', () => {
    // The date column third, after a quoted cell: its column counts the quotes, from 1.
    const lines = csv(60, 'a,b,date,OT').split('\n').map((l, i) => {
      if (i === 0) return l;
      const [d, a, b, ot] = l.split(',');
      return l === '' ? l : `"${a}",${b},${i === 20 ? '2020-13-45 99:00:00' : d},${ot}`;
    });
    lines[0] = 'a,b,date,OT';
    const line21 = lines[20]!;
    const col = line21.indexOf('2020-13') + 1;
    expect(() => new ForecastDataset(parseCsv(lines.join('\n')), opts({ file: 'bad.csv' }))).toThrow(
      new RegExp(`^bad\\.csv:21:${col}: column 'date': a date like 2016-07-01 00:00:00, 1990/1/1 0:00 or ISO 8601, found '2020-13-45 99:00:00'$`),
    );
  });

  it('refuses them with strictDates, naming the line', () => {
    expect(() => new ForecastDataset(parseCsv(text()), opts({ file: 'dup.csv', strictDates: true }))).toThrow(
      /^dup\.csv:32: dates in increasing order \(--strict_dates\), found '2020-01-02 05:00:00' repeats .*; 2 such rows in all$/,
    );
  });
});

describe('columns by name', () => {
  const ordered = parseCsv(csv(3));
  const trained = { columns: ['a', 'b', 'OT'], features: 'M' as const };

  it('rebuilds a reordered file in the trained order', () => {
    const reordered = parseCsv('OT,date,b,a\n5,2020-01-01,2,1\n6,2020-01-02,4,3\n');
    const t = matchTrainedColumns(reordered, trained, 'r.csv');
    expect(t.header).toEqual(['date', 'a', 'b', 'OT']);
    expect(Array.from(t.values)).toEqual([1, 2, 5, 3, 4, 6]);
    expect(matchTrainedColumns(ordered, trained, 'o.csv').values).toEqual(ordered.values);
  });

  it('lists missing and unexpected names', () => {
    const renamed = parseCsv('date,a,bb,OT,extra\n2020-01-01,1,2,3,4\n');
    expect(() => matchTrainedColumns(renamed, trained, 'n.csv')).toThrow(
      "n.csv: columns do not match the model's (features M uses every column but date, so the file must have exactly these: a, b, OT): missing 'b'; unexpected 'bb', 'extra'",
    );
    expect(() => matchTrainedColumns(parseCsv('date,a,b,OT,c\n2020,1,2,3,4\n'), { ...trained, features: 'MS' }, 'x.csv')).toThrow(/unexpected 'c'$/);
  });

  it('features S needs only the target and ignores other columns, as TSLib', () => {
    const t = matchTrainedColumns(parseCsv('date,z,OT\n2020-01-01,9,3\n'), { columns: ['OT'], features: 'S' }, 's.csv');
    expect(t.header).toEqual(['date', 'OT']);
    expect(Array.from(t.values)).toEqual([3]);
    expect(() => matchTrainedColumns(parseCsv('date,z\n2020,9\n'), { columns: ['OT'], features: 'S' }, 's.csv')).toThrow(/missing 'OT'/);
  });
});

describe('values in float64 until scaled (as pandas and StandardScaler have them)', () => {
  it('a column with a large offset keeps its variation: scaled, it equals the same column without the offset', () => {
    const rows = 500;
    const lines = (offset: number) => ['date,a,OT', ...Array.from({ length: rows }, (_, i) =>
      `${new Date(Date.UTC(2020, 0, 1, i)).toISOString().slice(0, 19).replace('T', ' ')},${(offset + Math.sin(i / 9) * 3).toFixed(3)},${(i / 100).toFixed(2)}`)].join('\n');
    const o = { kind: 'custom' as const, features: 'M' as const, target: 'OT', seqLen: 24, labelLen: 12, predLen: 12, freq: 'h', file: 'meter.csv' };
    const plain = new ForecastDataset(parseCsv(lines(0)), o);
    const meter = new ForecastDataset(parseCsv(lines(1e8)), o);
    const table = parseCsv(lines(1e8));
    expect(new Set(Array.from({ length: rows }, (_, r) => table.values[r * 2])).size).toBeGreaterThan(400); // float32 kept 3
    for (let r = 0; r < rows; r++) expect(Math.abs(meter.data[r * 2]! - plain.data[r * 2]!), `row ${r}`).toBeLessThan(1e-5);
    expect(meter.scaler.mean[0]).toBeCloseTo(1e8 + plain.scaler.mean[0]!, 6);
  });
});

describe('float32 text', () => {
  it('writes the shortest decimal that reads back as the same float32', () => {
    expect(float32Text(0.1)).toBe('0.1');
    expect(float32Text(Math.fround(0.1))).toBe('0.1');
    expect(float32Text(1 / 3)).toBe('0.33333334');
    expect(float32Text(16777217)).toBe('16777216');
    expect(float32Text(-2.5)).toBe('-2.5');
    expect(float32Text(3.4028234663852886e38)).toBe('3.4028235e+38');
    expect(float32Text(1e-45)).toBe('1e-45');
    // Every float32 round-trips, including those 7 significant digits cannot tell apart.
    const bits = new Uint32Array(1);
    const f = new Float32Array(bits.buffer);
    let needed9 = 0;
    for (let i = 0; i < 20000; i++) {
      bits[0] = (Math.imul(i, 2654435761) >>> 0) & 0x7f7fffff;
      const s = float32Text(f[0]!);
      expect(Math.fround(Number(s))).toBe(f[0]);
      if (Math.fround(+f[0]!.toPrecision(7)) !== f[0]) needed9++;
    }
    expect(needed9).toBeGreaterThan(0);
  });
});

describe('calendar --freq against the rows', () => {
  const H = 3_600_000;
  const D = 24 * H;
  it('warns when m, a or b do not match the rows, and never for the frequencies that step by the data', () => {
    expect(calendarFreqMismatch('m', H)).toBe("--freq m steps a forecast's dates by a calendar month, but the rows are 1 h apart (median): predict would date each step a calendar month after the one before and compute the decoder's time features from those dates; --freq h matches the rows");
    expect(calendarFreqMismatch('b', 15 * 60_000)).toMatch(/by a weekday, but the rows are 15 min apart .*--freq t matches/);
    expect(calendarFreqMismatch('a', 7 * D)).toMatch(/by a calendar year, but the rows are 7 d apart .*--freq w matches/);
    expect(calendarFreqMismatch('3m', 91 * D)).toMatch(/^--freq 3m steps a forecast's dates by a calendar month \(a multiple is not stepped\), but the rows are 91 d apart/);
    for (const gap of [28, 29, 30, 31]) expect(calendarFreqMismatch('m', gap * D)).toBeUndefined();
    expect(calendarFreqMismatch('a', 365 * D)).toBeUndefined();
    expect(calendarFreqMismatch('b', D)).toBeUndefined();
    // TSLib's scripts run weekly ILI and 15-minute ETTm with its default 'h': those step by the data, no warning.
    for (const f of ['h', 't', '15min', 's', 'd', 'w']) expect(calendarFreqMismatch(f, 7 * D)).toBeUndefined();
    expect(calendarFreqMismatch('m', null)).toBeUndefined();
  });

  it('ForecastDataset says it once, naming the file', () => {
    const warned: string[] = [];
    new ForecastDataset(parseCsv(csv(60)), opts({ file: 'hourly.csv', freq: 'm', onWarning: (m) => warned.push(m) }));
    expect(warned).toEqual([expect.stringMatching(/^hourly\.csv: --freq m steps a forecast's dates by a calendar month, but the rows are 1 h apart/)]);
    const none: string[] = [];
    new ForecastDataset(parseCsv(csv(60)), opts({ freq: 'h', onWarning: (m) => none.push(m) }));
    expect(none).toEqual([]);
  });
});
