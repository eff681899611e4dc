/**
 * One run per output folder. `sparsecast train` (and `sweep`) takes `<out>/.sparsecast.lock` before it writes
 * anything there and removes it when the process exits, so two runs into one --out cannot interleave their
 * checkpoints, logs and results into a folder that belongs to neither.
 *
 * - Taking the lock is atomic: the file is created with O_CREAT|O_EXCL ('wx'); of two runs, exactly one wins.
 * - It holds JSON {pid, hostname, started, command} so the refusal can say who holds it.
 * - Released on every way out: `release()` from a `finally`, and a process 'exit' listener for process.exit()
 *   (the signal handlers exit with 130 / 143 through it). Only a lock that is still ours is removed.
 * - A lock left by a run that died without exiting (kill -9, power loss) is stale: same host and its pid no
 *   longer alive (`kill(pid, 0)` fails with ESRCH, or the process is a zombie awaiting its parent). It is taken
 *   over with a warning. A lock from another host cannot be checked from here: refused, with a hint to delete it
 *   if that run is dead.
 */
import { closeSync, openSync, readFileSync, renameSync, linkSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { makeDir } from '../io/make-dir.ts';

export const LOCK_NAME = '.sparsecast.lock';

/**
 * Exit status of a run refused because its folder is busy: EX_TEMPFAIL (sysexits.h), "try again later". A queue
 * worker retries such a run instead of failing it for good, as it would a run that failed by itself (exit 1).
 */
export const BUSY_EXIT_CODE = 75;

/** The folder is in use by another run (the command exits with BUSY_EXIT_CODE). */
export class RunFolderBusyError extends Error {
  readonly exitCode = BUSY_EXIT_CODE;
}

/** Locks this process holds (by path): a lock with our own pid is ours if listed here, else a stale one from an
 * earlier process that had the same pid (pids are reused, e.g. after a container restart). */
const held = new Set<string>();

export interface LockInfo {
  pid: number;
  hostname: string;
  started: string;
  command: string;
}

export interface RunLock {
  path: string;
  info: LockInfo;
  release(): void;
}

/** Whether a process on this host is running (a zombie is dead: it only waits for its parent to reap it). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it exists but belongs to someone else — alive.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // Linux: field 3 of /proc/<pid>/stat is the state; Z (zombie) and X (dead) hold nothing.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc (macOS, Windows): kill(pid, 0) succeeding is all we know
  }
}

function readLock(path: string): LockInfo | null {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
    return typeof v.pid === 'number' && typeof v.hostname === 'string' ? v : null;
  } catch {
    return null;
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function describe(l: LockInfo): string {
  return `pid ${l.pid} on ${l.hostname}, started ${l.started}${l.command ? `: ${l.command}` : ''}`;
}

/**
 * Take the lock of folder `dir` (created if missing) for `command`; throws when another live run holds it.
 * `warn` is told when a stale lock is taken over.
 */
export function acquireRunLock(dir: string, command: string, warn: (msg: string) => void = (m) => process.stderr.write(`${m}\n`)): RunLock {
  makeDir(dir, 'the --out folder');
  const path = resolve(dir, LOCK_NAME);
  const info: LockInfo = { pid: process.pid, hostname: hostname(), started: new Date().toISOString(), command };
  const text = `${JSON.stringify(info)}\n`;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, text);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`sparsecast: cannot create the lock ${path}: ${(e as Error).message}`);
    }
    const holder = readLock(path);
    if (!holder) {
      // Created but not yet written by its taker (a few microseconds), or damaged: wait a little, then refuse.
      if (attempt < 40) {
        sleepMs(25);
        continue;
      }
      throw new Error(`sparsecast: ${dir} is locked by ${path}, which cannot be read; if no run is using ${dir}, delete the lock file and start again`);
    }
    if (holder.hostname !== info.hostname) {
      throw new RunFolderBusyError(`sparsecast: ${dir} is in use by another run (${describe(holder)}; lock ${path}). It runs on another host, so it cannot be checked from here: if that run is dead, delete ${path} and start again`);
    }
    const ours = holder.pid === process.pid;
    if ((ours && held.has(path)) || (!ours && processAlive(holder.pid))) {
      throw new RunFolderBusyError(`sparsecast: ${dir} is in use by another run (${describe(holder)}; lock ${path}). Wait for it to finish, or use another --out`);
    }
    if (attempt >= 40) throw new RunFolderBusyError(`sparsecast: could not take the lock ${path} (other runs keep taking it)`);
    // Stale. Move it aside under a name of our own, so of two runs taking over at once only one removes it,
    // and check that what we moved is the lock we judged stale — not a live one another taker just created.
    const aside = `${path}.stale-${process.pid}`;
    try {
      renameSync(path, aside);
    } catch {
      continue; // someone else moved it first: try again from the top
    }
    const moved = readLock(aside);
    if (!moved || moved.pid !== holder.pid || moved.started !== holder.started) {
      // A live lock: put it back (link fails if yet another run holds the name now; that one then stands).
      try {
        linkSync(aside, path);
      } catch {
        // leave it
      }
      unlinkSync(aside);
      continue;
    }
    unlinkSync(aside);
    warn(`warning: taking over the stale lock ${path} (${describe(holder)}; that process is no longer running)`);
  }
  held.add(path);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    held.delete(path);
    process.off('exit', release);
    const now = readLock(path);
    // Only ours: a lock taken over after ours was judged stale (it cannot be, while we live) is left alone.
    if (now && now.pid === info.pid && now.started === info.started && now.hostname === info.hostname) {
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', release);
  return { path, info, release };
}
