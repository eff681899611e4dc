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
