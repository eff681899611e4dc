/**
 * The files of a run folder that the commands read back (loadRun, eval, export, predict, report, --resume).
 * `predict --out` and `export --out` may write into the folder they read — a forecast or a model file beside the
 * run is natural — but not over one of these: `export --checkpoint runs/a --out runs/a/config.json` wrote the
 * model file over the run's configuration and left the run unreadable, with exit 0.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

export const RUN_RECORDS: readonly string[] = [
  'config.json', 'model.safetensors', 'checkpoint.safetensors', 'best.safetensors', 'result.json', 'log.jsonl', 'sparsity.jsonl',
];

/**
 * Checks an output file path before any work, naming the flag: not one of the run folder's own records, not a
 * folder, and in a folder that exists (found only after the forecast or the export, these cost the user the
 * work and read as a bare ENOENT / EISDIR).
 */
export function checkOutFile(command: string, flag: string, out: string, runDir: string): void {
  const fail = (why: string) => {
    throw new Error(`sparsecast ${command}: --${flag} ${out} ${why}`);
  };
  if (resolve(dirname(out)) === resolve(runDir) && RUN_RECORDS.includes(basename(out))) fail(`would overwrite the run's own ${basename(out)} in ${runDir}; write it elsewhere`);
  if (existsSync(out) && statSync(out).isDirectory()) fail('is a folder; give a file path');
  const parent = dirname(out);
  if (!existsSync(parent) || !statSync(parent).isDirectory()) fail(`is in ${parent}, which is not an existing folder`);
}
