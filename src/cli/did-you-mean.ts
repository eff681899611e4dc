/**
 * The closest known name to a mistyped one, for "unknown flag --pred-len; did you mean --pred_len?".
 * TSLib spells flags with underscores and many users type dashes (or the other way round), so `-`/`_` and case
 * count as the same name before any edit distance is measured.
 */

/** Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two neighbours cost 1. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      // A swapped pair ("lamdba") is one slip of the fingers, not two substitutions.
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[(i - 2) * cols + j - 2]! + 1);
      d[i * cols + j] = v;
    }
  }
  return d[rows * cols - 1]!;
}

/** `-` and `_` are one character for flag names, and case does not matter. */
function canonical(name: string): string {
  return name.toLowerCase().replace(/-/g, '_');
}

/**
 * The candidate nearest to `name`, or undefined when none is near enough to be a plausible typo: at most a
 * third of the longer name's characters (rounded up, at most 3) may differ, so `--epochs` does not become
 * `--seed` while `--learning-rate`, `--lamda` and `--batchsize` find their flags.
 */
export function didYouMean(name: string, candidates: readonly string[]): string | undefined {
  const target = canonical(name);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const cc = canonical(c);
    if (cc === target) return c;
    const dist = editDistance(target, cc);
    const limit = Math.min(3, Math.ceil(Math.max(cc.length, target.length) / 3));
    if (dist <= limit && dist < bestDistance) {
      best = c;
      bestDistance = dist;
    }
  }
  // A name that is a whole word of a candidate ("epochs" in train_epochs) is a likely intent too.
  if (best === undefined && target.length >= 4) {
    const hits = candidates.filter((c) => canonical(c).split('_').includes(target) || canonical(c).startsWith(`${target}_`));
    if (hits.length === 1) best = hits[0];
  }
  return best;
}

/**
 * Throws `<what>: unknown option <key>` for the first key of `opts` not in `known`, with the nearest known name
 * or else the list of them. An options object is how the library is driven, and a misspelt key (`strict_dates`,
 * `csr_threshold`) would otherwise be ignored and the default used without a word. `prefix` names a nested
 * object's keys as the caller spells them (`sparse.`).
 */
export function refuseUnknownKeys(what: string, opts: object, known: readonly string[], prefix = ''): void {
  for (const k of Object.keys(opts)) {
    if (known.includes(k)) continue;
    const guess = didYouMean(k, known);
    throw new Error(`${what}: unknown option ${prefix}${k}${guess ? `; did you mean ${prefix}${guess}?` : ` (options: ${known.join(', ')})`}`);
  }
}
