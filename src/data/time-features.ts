/**
 * Calendar parsing and Time-Series-Library's `timeF` features (utils/timefeatures.py): each feature is
 * scaled to [−0.5, 0.5], and the set depends on the frequency code (`h` → hour of day, day of week, day of
 * month, day of year). Dates are naive wall-clock times: no time zone is applied.
 */

export interface CalendarTime {
  year: number;
  month: number; // 1..12
  day: number; // 1..31
  hour: number;
  minute: number;
  second: number;
}

const DATE = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$/;

/** Parse `2016-07-01 00:00:00`, `1990/1/1 0:00`, ISO `2016-07-01T00:00:00Z` or a bare date. */
export function parseDate(text: string): CalendarTime | null {
  const m = DATE.exec(text.trim());
  if (!m) return null;
  const t: CalendarTime = {
    year: Number(m[1]), month: Number(m[2]), day: Number(m[3]),
    hour: m[4] ? Number(m[4]) : 0, minute: m[5] ? Number(m[5]) : 0, second: m[6] ? Number(m[6]) : 0,
  };
  const days = new Date(Date.UTC(t.year, t.month - 1, t.day)).getUTCDate();
  if (t.month < 1 || t.month > 12 || days !== t.day || t.hour > 23 || t.minute > 59 || t.second > 59) return null;
  return t;
}

/** Milliseconds since the epoch, reading the wall-clock time as UTC (for spacing checks). */
export function toEpochMs(t: CalendarTime): number {
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
}

/** The wall-clock time of epoch ms read as UTC: toEpochMs's inverse (forecast steps back to calendar dates). */
export function fromEpochMs(ms: number): CalendarTime {
  const d = new Date(ms);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() };
}

function dayOfWeek(t: CalendarTime): number {
  // pandas: Monday = 0 … Sunday = 6.
  return (new Date(Date.UTC(t.year, t.month - 1, t.day)).getUTCDay() + 6) % 7;
}

function dayOfYear(t: CalendarTime): number {
  return (Date.UTC(t.year, t.month - 1, t.day) - Date.UTC(t.year, 0, 1)) / 86_400_000 + 1;
}

/** ISO-8601 week number (pandas' isocalendar().week). */
function isoWeek(t: CalendarTime): number {
  const d = new Date(Date.UTC(t.year, t.month - 1, t.day));
  const dow = (d.getUTCDay() + 6) % 7;
  d.setUTCDate(d.getUTCDate() - dow + 3); // Thursday of this week decides the year.
  const firstThursday = new Date(Date.UTC(d.getUTCFullYear(), 0, 4));
  return 1 + Math.round(((d.getTime() - firstThursday.getTime()) / 86_400_000 - 3 + ((firstThursday.getUTCDay() + 6) % 7)) / 7);
}

type Feature = (t: CalendarTime) => number;
const secondOfMinute: Feature = (t) => t.second / 59 - 0.5;
const minuteOfHour: Feature = (t) => t.minute / 59 - 0.5;
const hourOfDay: Feature = (t) => t.hour / 23 - 0.5;
const dayOfWeekF: Feature = (t) => dayOfWeek(t) / 6 - 0.5;
const dayOfMonth: Feature = (t) => (t.day - 1) / 30 - 0.5;
const dayOfYearF: Feature = (t) => (dayOfYear(t) - 1) / 365 - 0.5;
const monthOfYear: Feature = (t) => (t.month - 1) / 11 - 0.5;
const weekOfYear: Feature = (t) => (isoWeek(t) - 1) / 52 - 0.5;

/** Feature lists per frequency code, in TSLib's order. */
const BY_FREQ: Record<string, Feature[]> = {
  a: [],
  m: [monthOfYear],
  w: [dayOfMonth, weekOfYear],
  d: [dayOfWeekF, dayOfMonth, dayOfYearF],
  b: [dayOfWeekF, dayOfMonth, dayOfYearF],
  h: [hourOfDay, dayOfWeekF, dayOfMonth, dayOfYearF],
  t: [minuteOfHour, hourOfDay, dayOfWeekF, dayOfMonth, dayOfYearF],
  s: [secondOfMinute, minuteOfHour, hourOfDay, dayOfWeekF, dayOfMonth, dayOfYearF],
};

/**
 * `timeF` feature count per frequency code (TSLib's freq_map: h 4, t 5, s 6, m 1, a 1, w 2, d 3, b 3); yearly data
 * has no feature but its embedding still takes one input.
 */
export const TIME_FEATURE_COUNTS: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(BY_FREQ).map(([code, feats]) => [code, Math.max(feats.length, 1)]),
);

/** Normalise a TSLib/pandas frequency string ('h', '15min', 't', 'd', …) to its code. */
export function freqCode(freq: string): string {
  const f = freq.trim().toLowerCase().replace(/^\d+/, '');
  if (f === 'min' || f === 't') return 't';
  if (f in BY_FREQ) return f;
  throw new Error(`time features: unknown freq '${freq}' (use one of s, t/min, h, d, b, w, m, a, optionally with a multiple like 15min)`);
}

/** Row-major features [rows, F] for the given dates. */
export function timeFeatures(dates: readonly CalendarTime[], freq: string): { values: Float32Array; count: number } {
  const code = freqCode(freq);
  const feats = BY_FREQ[code]!;
  // TSLib's 'a' (yearly) has no features but its embedding still expects 1 input: keep [rows, 1] of zeros.
  const count = TIME_FEATURE_COUNTS[code]!;
  const values = new Float32Array(dates.length * count);
  dates.forEach((t, r) => feats.forEach((f, i) => (values[r * count + i] = f(t))));
  return { values, count };
}
