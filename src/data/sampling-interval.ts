/**
 * How far apart a series' rows are, for a time axis that says what one step is ("1 h", "15 min", "1 d"): the
 * median gap between consecutive dates, so a missing row or a repeated timestamp does not change it.
 */
import { toEpochMs, type CalendarTime } from './time-features.ts';

/** Median gap in milliseconds between consecutive dates; null with fewer than two dates or no positive gap. */
export function samplingInterval(dates: readonly CalendarTime[]): number | null {
  return medianGap(dates.map(toEpochMs));
}

/** Median positive gap between consecutive times (epoch ms); null when there is none. */
export function medianGap(ms: readonly number[]): number | null {
  const gaps: number[] = [];
  for (let i = 1; i < ms.length; i++) if (ms[i]! > ms[i - 1]!) gaps.push(ms[i]! - ms[i - 1]!);
  if (gaps.length === 0) return null;
  gaps.sort((a, b) => a - b);
  return gaps[gaps.length >> 1]!;
}

const UNITS: Array<[number, string]> = [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'min'], [1000, 's']];

/** An interval in the largest unit it is a whole number of: 3 600 000 → "1 h", 900 000 → "15 min". */
export function intervalText(ms: number): string {
  for (const [size, unit] of UNITS) if (ms >= size && ms % size === 0) return `${ms / size} ${unit}`;
  return `${ms} ms`;
}

/** One day in milliseconds. */
export const DAY = 86_400_000;

/**
 * A warning when `freq` is a calendar frequency ('m', 'a', 'b') the rows are not spaced by. Those three step the
 * forecast's dates by the calendar (months, years, weekdays) where the others take the data's own median step,
 * so a monthly --freq on hourly rows dated predict's forecast a month apart per step and gave its decoder the
 * time features of those dates — TSLib's pd.date_range does the same, so it is a warning, not an error. A
 * multiple ('3m') is not stepped either: the calendar frequencies step by one unit.
 */
export function calendarFreqMismatch(freq: string, gapMs: number | null): string | undefined {
  if (gapMs === null) return undefined;
  const f = freq.trim().toLowerCase();
  const fits = f === 'm' ? gapMs >= 28 * DAY && gapMs <= 31 * DAY
    : f === 'a' ? gapMs >= 365 * DAY && gapMs <= 366 * DAY
      : f === 'b' ? gapMs === DAY
        : !/^\d*[mab]$/.test(f);
  if (fits) return undefined;
  const what = f.endsWith('m') ? 'a calendar month' : f.endsWith('a') ? 'a calendar year' : 'a weekday';
  const suggest = gapMs % (7 * DAY) === 0 ? 'w' : gapMs % DAY === 0 ? 'd' : gapMs % 3_600_000 === 0 ? 'h' : gapMs % 60_000 === 0 ? 't' : 's';
  return `--freq ${freq} steps a forecast's dates by ${what}${/^\d/.test(f) ? ' (a multiple is not stepped)' : ''}, but the rows are ${intervalText(gapMs)} apart (median): predict would date each step ${what} after the one before and compute the decoder's time features from those dates; --freq ${suggest} matches the rows`;
}
