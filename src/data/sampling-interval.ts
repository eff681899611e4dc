/**
 * How far apart a series' rows are, for a time axis that says what one step is ("1 h", "15 min", "1 d"): the
 * median gap between consecutive dates, so a missing row or a repeated timestamp does not change it.
 */
import { toEpochMs, type CalendarTime } from './time-features.ts';

/** Median gap in milliseconds between consecutive dates; null with fewer than two dates or no positive gap. */
export function samplingInterval(dates: readonly CalendarTime[]): number | null {
  const gaps: number[] = [];
  for (let i = 1; i < dates.length; i++) {
    const g = toEpochMs(dates[i]!) - toEpochMs(dates[i - 1]!);
    if (g > 0) gaps.push(g);
  }
  if (gaps.length === 0) return null;
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)]!;
}

const UNITS: Array<[number, string]> = [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'min'], [1000, 's']];

/** An interval in the largest unit it is a whole number of: 3 600 000 → "1 h", 900 000 → "15 min". */
export function intervalText(ms: number): string {
  for (const [size, unit] of UNITS) if (ms >= size && ms % size === 0) return `${ms / size} ${unit}`;
  return `${ms} ms`;
}
