// Axis labels that name their units: a column's quantity and unit from what its data set documents (or its own
// "(unit)" suffix), never a guess; the time axis's step from the data's dates.
import { describe, expect, it } from 'vitest';
import { columnAxisLabel } from '../src/data/column-units.ts';
import { intervalText, samplingInterval } from '../src/data/sampling-interval.ts';
import { parseDate } from '../src/data/time-features.ts';

describe('column units', () => {
  it('names what the sources document, and says so when they give no unit', () => {
    expect(columnAxisLabel('data/ETTh1.csv', 'OT')).toBe('OT: oil temperature (°C)');
    expect(columnAxisLabel('/x/ETTm2.csv', 'HUFL')).toBe('HUFL: high useful load (unit not given by the data set)');
    expect(columnAxisLabel('exchange_rate.csv', 'OT')).toBe('OT: exchange rate (unit not given by the data set)');
    expect(columnAxisLabel('weather.csv', 'T (degC)')).toBe('T (°C)');
    expect(columnAxisLabel('weather.csv', 'p (mbar)')).toBe('p (mbar)');
    expect(columnAxisLabel('runs/mine.csv', 'load')).toBe('load (units of mine.csv)');
  });
});

describe('sampling interval', () => {
  const dates = (xs: string[]) => xs.map((d) => parseDate(d)!);
  it('is the median gap between dates, in the largest whole unit', () => {
    expect(intervalText(samplingInterval(dates(['2016-07-01 00:00:00', '2016-07-01 01:00:00', '2016-07-01 02:00:00']))!)).toBe('1 h');
    // A missing row and a repeated timestamp do not move the median.
    expect(intervalText(samplingInterval(dates(['2016-07-01 00:00', '2016-07-01 00:15', '2016-07-01 00:30', '2016-07-01 01:15', '2016-07-01 01:15', '2016-07-01 01:30']))!)).toBe('15 min');
    expect(intervalText(samplingInterval(dates(['1990/1/1 0:00', '1990/1/2 0:00', '1990/1/3 0:00']))!)).toBe('1 d');
    expect(samplingInterval(dates(['1990/1/1 0:00']))).toBeNull();
    expect(intervalText(1500)).toBe('1500 ms');
  });
});
