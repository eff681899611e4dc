/** A warning to the user: one `warning: …` line on stderr (stdout carries the results, JSON lines included). */
export function warn(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
}
