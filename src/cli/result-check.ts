/**
 * A run's result with a non-finite test metric is not a result: JSON prints NaN and ±Infinity as null, which a
 * script reading the line (or a sweep selecting on it) would take as "missing", not "broken". train and eval
 * still print their JSON line (for diagnosis) and then fail with this error, so the exit code is non-zero.
 */

/** The metrics whose non-finite value fails the command. */
const METRICS = ['mse', 'mae'] as const;

/** The test metrics of a result line that are not finite numbers, as `mse is null`. */
export function nonFiniteMetrics(json: Record<string, unknown>): string[] {
  return METRICS.filter((k) => typeof json[k] !== 'number' || !Number.isFinite(json[k] as number)).map((k) => `${k} is ${String(json[k])}`);
}

export function assertFiniteMetrics(command: string, json: Record<string, unknown>): void {
  // A run stopped by Ctrl-C has no final test pass; its NaN metrics mean "not measured" and it says so.
  if (json.interrupted === true) return;
  const bad = nonFiniteMetrics(json);
  if (bad.length) {
    throw new Error(`${command}: the test ${bad.join(', ')} — a non-finite result (diverged or broken weights); the JSON line above is not a valid result`);
  }
}
