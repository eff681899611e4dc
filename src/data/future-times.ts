/**
 * The times of the pred_len steps after a series' last date, for the forecast's dates and its decoder time
 * features. TSLib's prediction takes `pd.date_range(last, periods, freq)`; here the calendar frequencies step by
 * the calendar and the fixed-length ones by the series' own median step:
 * - 'm' / 'a': k months / years after the last date, the day clamped to the month's length, and a month-end date
 *   continued by month ends (Jan 31 → Feb 28 → Mar 31);
 * - 'b': the next weekdays (Saturday and Sunday skipped), at the last date's time of day;
 * - otherwise (s, t, h, d, w): the median gap between the dates (a missing row or a repeated timestamp does not
 *   change it; TSLib's 't' would step one minute where an ETTm file steps fifteen).
 * Repeating the last gap, as this did before, dated monthly forecasts 2014-12-31, 2015-01-30, …, put business-
 * day forecasts on weekends and doubled the step after one missing row.
 */
import { freqCode } from './time-features.ts';
import { DAY, medianGap } from './sampling-interval.ts';

const daysIn = (y: number, m: number) => new Date(Date.UTC(y, m + 1, 0)).getUTCDate();

/** `n` times (epoch ms, UTC wall clock) after the last of `ms` (increasing); null when no step can be known. */
export function futureTimes(ms: readonly number[], n: number, freq: string): number[] | null {
  const last = ms[ms.length - 1]!;
  const code = freqCode(freq);
  const d = new Date(last);
  const out: number[] = [];
  if (code === 'm' || code === 'a') {
    const y = d.getUTCFullYear();
    const m = d.getUTCMonth();
    const day = d.getUTCDate();
    const timeOfDay = last - Date.UTC(y, m, day);
    const monthEnd = day === daysIn(y, m);
    for (let k = 1; k <= n; k++) {
      const t = m + k * (code === 'm' ? 1 : 12);
      const ty = y + Math.floor(t / 12);
      const tm = t % 12;
      out.push(Date.UTC(ty, tm, monthEnd ? daysIn(ty, tm) : Math.min(day, daysIn(ty, tm))) + timeOfDay);
    }
    return out;
  }
  if (code === 'b') {
    for (let t = last; out.length < n;) {
      t += DAY;
      const wd = new Date(t).getUTCDay();
      if (wd !== 0 && wd !== 6) out.push(t);
    }
    return out;
  }
  const step = medianGap(ms);
  if (step === null) return null;
  for (let k = 1; k <= n; k++) out.push(last + k * step);
  return out;
}
