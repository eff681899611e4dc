/**
 * Timestamps that repeat or go back. TSLib (pandas) keeps the rows in file order and never checks, so a
 * published file with one repeated hour (as some benchmark files have) trains there; refusing the whole file
 * would refuse what TSLib accepts. Rows stay in file order: windows, splits and time features use the dates
 * as given. The caller gets one warning naming the first offending lines and the count, or, strict, an error.
 */
import type { CsvTable } from './csv.ts';

/** Lines listed by name in the message; the rest are counted. */
const SHOWN = 3;

/** Returns the warning (undefined when the dates increase); throws when `strict`. `ms` is each row's time. */
export function checkDateOrder(file: string, table: CsvTable, ms: readonly number[], strict: boolean): string | undefined {
  const lineOf = (r: number) => table.lines?.[r] ?? r + 2;
  const bad: number[] = [];
  for (let i = 1; i < ms.length; i++) if (!(ms[i]! > ms[i - 1]!)) bad.push(i);
  if (bad.length === 0) return undefined;
  const first = bad[0]!;
  const what = `'${table.dates[first]}' ${ms[first] === ms[first - 1] ? 'repeats' : 'comes before'} '${table.dates[first - 1]}' (line ${lineOf(first - 1)})`;
  if (strict) {
    throw new Error(`${file}:${lineOf(first)}: dates in increasing order (--strict_dates), found ${what}; ${bad.length} such row${bad.length > 1 ? 's' : ''} in all`);
  }
  const listed = bad.slice(0, SHOWN).map((i) => `${file}:${lineOf(i)}`).join(', ');
  const more = bad.length > SHOWN ? ` and ${bad.length - SHOWN} more` : '';
  return `${listed}${more}: ${bad.length} date${bad.length > 1 ? 's' : ''} not after the row before (first: ${what}); kept in file order as TSLib does (--strict_dates refuses)`;
}
