/** Flag parsing for the CLI: `--name value` pairs (Time-Series-Library spelling) and bare switches. */
export interface ParsedArgs {
  command: string | undefined;
  flags: Map<string, string>;
  switches: Set<string>;
}

export function parseArgs(argv: string[], switchNames: readonly string[] = []): ParsedArgs {
  const flags = new Map<string, string>();
  const switches = new Set<string>();
  let command: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const [name, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
      if (inline !== undefined) flags.set(name, inline);
      else if (switchNames.includes(name)) switches.add(name);
      else {
        const v = argv[i + 1];
        if (v === undefined || v.startsWith('--')) throw new Error(`sparsecast: flag --${name} needs a value`);
        flags.set(name, v);
        i++;
      }
    } else if (command === undefined) {
      command = a;
    } else {
      throw new Error(`sparsecast: unexpected argument '${a}'`);
    }
  }
  return { command, flags, switches };
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
