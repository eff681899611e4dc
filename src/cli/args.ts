/**
 * What a command's flags parse to (src/cli/flags.ts parses them against the command's table): the raw
 * strings by Time-Series-Library name, the bare switches given, and typed readers on top. Every value here has
 * already passed its table's type and range check, so the readers only convert.
 */
export interface ParsedArgs {
  /** The first bare word (report's DIR, bench's study name), if the command takes one. */
  command: string | undefined;
  flags: Map<string, string>;
  switches: Set<string>;
  /** Every bare word, in order. */
  positionals?: string[];
  /** Every value of a repeatable flag (sweep's --grid), in order; `flags` holds the last. */
  repeated?: Map<string, string[]>;
  /**
   * How a flag was typed where it was another program's spelling of it (`--loss_freedom_factor 1.1` for
   * --lambda, `--method PALS`): flag name → the words as typed, for rules that depend on the spelling.
   */
  spelled?: Map<string, string>;
}

export function numberFlag(args: ParsedArgs, name: string, fallback: number, integer = false): number {
  const raw = args.flags.get(name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw new Error(`sparsecast: --${name} expects ${integer ? 'an integer' : 'a number'}, got '${raw}'`);
  }
  return v;
}

/** The flag's value, or the fallback when it was not given. */
export function stringFlag(args: ParsedArgs, name: string, fallback: string): string {
  return args.flags.get(name) ?? fallback;
}
