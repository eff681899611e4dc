/**
 * The README's numbers, for tests that keep them true: a section's text by its heading, and a check that a
 * stated size (rounded for people: "41.8 kB") is the measured one within a tolerance, so the text fails a
 * test as soon as the thing it describes changes by more than rounding and small drift.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** The text of `## title` (or `### title`) up to the next heading of the same or a higher level. */
export function readmeSection(title: string): string {
  const text = readFileSync(README, 'utf8');
  const m = text.match(new RegExp(`^(#{2,3}) ${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`, 'm'));
  if (!m) throw new Error(`README.md has no section "${title}"`);
  const start = m.index! + m[0].length;
  const rest = text.slice(start);
  const next = rest.search(new RegExp(`^#{2,${m[1]!.length}} `, 'm'));
  return next < 0 ? rest : rest.slice(0, next);
}

/**
 * How far a stated number may be from the measured one: 2 % — the one decimal the README prints, plus room for
 * small changes elsewhere in the code before the text must be updated.
 */
export const README_TOLERANCE = 0.02;

export function withinTolerance(stated: number, measured: number, rel = README_TOLERANCE): boolean {
  return Math.abs(stated - measured) <= rel * Math.abs(measured);
}
