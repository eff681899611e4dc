/**
 * `mkdir -p` that fails where it cannot create a folder. Node's own recursive mkdir (Node 20, 22) loops forever
 * when a folder's parent exists but refuses the child with ENOENT — as /proc does, and some FUSE mounts — so
 * `--out /proc/run` hung the CLI with no word. Here each missing level is created on its own, from the nearest
 * existing ancestor down, and the first refusal is an error naming the folder asked for and the reason.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

function code(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException).code;
}

/**
 * Creates `path` and any missing parents; a folder that exists already is fine. `what` names it in errors the
 * way the user gave it ('the --out folder').
 */
export function makeDir(path: string, what = 'the folder'): void {
  const missing: string[] = [];
  for (let p = resolve(path); ; ) {
    try {
      if (statSync(p).isDirectory()) break;
      throw new Error(`cannot create ${what} ${path}: ${p} exists and is not a folder`);
    } catch (e) {
      if (code(e) !== 'ENOENT') {
        if (code(e) === undefined) throw e;
        throw new Error(`cannot create ${what} ${path}: ${(e as Error).message}`);
      }
    }
    missing.push(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir);
    } catch (e) {
      // Another process (a second worker on the same artifacts) may create it between the check and here.
      if (code(e) !== 'EEXIST') throw new Error(`cannot create ${what} ${path}: ${(e as Error).message}`);
    }
  }
}
