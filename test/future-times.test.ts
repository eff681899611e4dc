// The forecast's dates after a series' last date (src/data/future-times.ts): calendar steps for months, years and
// business days, the median step otherwise — exact dates, as a user reads them in predict's CSV.
import { describe, expect, it } from 'vitest';
import { futureTimes } from '../src/data/future-times.ts';

const iso = (t: number) => new Date(t).toISOString().slice(0, 19).replace('T', ' ');
const ms = (...dates: string[]) => dates.map((d) => Date.parse(`${d.replace(' ', 'T')}Z`));

describe('futureTimes', () => {
  it('steps monthly data by calendar months: month starts stay month starts, month ends stay month ends', () => {
    expect(futureTimes(ms('2014-10-01', '2014-11-01', '2014-12-01'), 4, 'm')!.map(iso)).toEqual([
      '2015-01-01 00:00:00', '2015-02-01 00:00:00', '2015-03-01 00:00:00', '2015-04-01 00:00:00']);
    expect(futureTimes(ms('2015-11-30', '2015-12-31'), 3, 'm')!.map(iso)).toEqual(['2016-01-31 00:00:00', '2016-02-29 00:00:00', '2016-03-31 00:00:00']);
    // A mid-month day is kept, clamped where the month is shorter.
    expect(futureTimes(ms('2015-12-30', '2016-01-30'), 2, 'm')!.map(iso)).toEqual(['2016-02-29 00:00:00', '2016-03-30 00:00:00']);
    expect(futureTimes(ms('2019-01-01', '2020-01-01'), 2, 'a')!.map(iso)).toEqual(['2021-01-01 00:00:00', '2022-01-01 00:00:00']);
  });

  it('puts business-day forecasts on weekdays only', () => {
    // Thursday, Friday → Monday, Tuesday, …
    expect(futureTimes(ms('2021-02-25 09:00:00', '2021-02-26 09:00:00'), 4, 'b')!.map(iso)).toEqual([
      '2021-03-01 09:00:00', '2021-03-02 09:00:00', '2021-03-03 09:00:00', '2021-03-04 09:00:00']);
  });

  it('steps fixed-length frequencies by the median gap: one missing row or a repeated timestamp does not change it', () => {
    const hourly = ms('2016-07-01 00:00:00', '2016-07-01 01:00:00', '2016-07-01 02:00:00', '2016-07-01 03:00:00', '2016-07-01 05:00:00');
    expect(futureTimes(hourly, 2, 'h')!.map(iso)).toEqual(['2016-07-01 06:00:00', '2016-07-01 07:00:00']);
    const repeated = ms('2016-07-01 00:00:00', '2016-07-01 00:15:00', '2016-07-01 00:30:00', '2016-07-01 00:30:00');
    expect(futureTimes(repeated, 2, 't')!.map(iso)).toEqual(['2016-07-01 00:45:00', '2016-07-01 01:00:00']); // 15 min, not TSLib's 't' = 1 min
    expect(futureTimes(ms('2020-01-05', '2020-01-12'), 1, 'w')!.map(iso)).toEqual(['2020-01-19 00:00:00']);
  });

  it('knows no step from a single date (fixed-length frequencies), and says so with null', () => {
    expect(futureTimes(ms('2016-07-01 00:00:00'), 3, 'h')).toBeNull();
    expect(futureTimes(ms('2016-07-01'), 1, 'm')!.map(iso)).toEqual(['2016-08-01 00:00:00']);
  });
});
