import { describe, expect, it } from 'vitest';
import { parseDate, timeFeatures, freqCode } from '../src/data/time-features.ts';

describe('time features (TSLib timeF)', () => {
  it('parses the common date formats', () => {
    expect(parseDate('2016-07-01 00:00:00')).toEqual({ year: 2016, month: 7, day: 1, hour: 0, minute: 0, second: 0 });
    expect(parseDate('1990/1/1 0:00')).toEqual({ year: 1990, month: 1, day: 1, hour: 0, minute: 0, second: 0 });
    expect(parseDate('2016-07-01T13:45:10Z')).toEqual({ year: 2016, month: 7, day: 1, hour: 13, minute: 45, second: 10 });
    expect(parseDate('2016-02-30 00:00')).toBeNull();
    expect(parseDate('yesterday')).toBeNull();
  });

  it('hourly features match hand-computed pandas values', () => {
    // 2016-07-01 was a Friday (dayofweek 4), day of year 183.
    const t = parseDate('2016-07-01 05:00:00')!;
    const { values, count } = timeFeatures([t], 'h');
    expect(count).toBe(4);
    expect(values[0]).toBeCloseTo(5 / 23 - 0.5, 6);
    expect(values[1]).toBeCloseTo(4 / 6 - 0.5, 6);
    expect(values[2]).toBeCloseTo(0 / 30 - 0.5, 6);
    expect(values[3]).toBeCloseTo(182 / 365 - 0.5, 6);
  });

  it('minute and weekly features', () => {
    expect(freqCode('15min')).toBe('t');
    const t = parseDate('2018-01-01 00:15:00')!; // Monday, ISO week 1
    expect(Array.from(timeFeatures([t], 't').values).map((v) => +v.toFixed(6))).toEqual(
      [15 / 59 - 0.5, -0.5, -0.5, -0.5, -0.5].map((v) => +v.toFixed(6)),
    );
    expect(timeFeatures([parseDate('2021-01-03')!], 'w').values[1]).toBeCloseTo(52 / 52 - 0.5, 6); // ISO week 53 of 2020
    expect(() => freqCode('fortnight')).toThrow(/unknown freq/);
  });
});
