/**
 * One trainer per artifacts folder. BullMQ's job lock already keeps a job on one worker at a time, but it is
 * at-least-once: a worker that was SIGKILLed leaves its `train` child running (an orphan) while the job is handed
 * to another worker, and two sweeps with the same run share one folder (it is keyed by the config hash). This
 * lock file, beside the folder (`<hash>.lock`, O_EXCL), records the worker and its child; the holder refreshes its
 * mtime while the run goes on.
 *
 * A lock is free to take over when its holder is gone: on this host, when neither the worker nor the child pid is
 * alive; on another host, when it has not been refreshed for `staleMs`. An orphan child on this host (its worker
 * dead) is sent SIGTERM — it is verified to be a `train` into this folder first — so that the run resumes here
 * from its last checkpoint instead of being trained twice at once.
 */
import { closeSync, openSync, readFileSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';

export interface LockInfo {
  host: string;
  workerPid: number;
  childPid?: number;
  jobId: string;
  since: string;
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

export type LockOutcome = { held: ArtifactsLock } | { busy: string };

export class ArtifactsLock {
  private info: LockInfo;
  private timer: NodeJS.Timeout | undefined;

  private constructor(readonly path: string, info: LockInfo) {
    this.info = info;
  }

  /**
   * Take the lock for `dir` (the run's artifacts folder), or say who holds it. `staleMs`: how long another host's
   * lock may go unrefreshed before it counts as abandoned.
   */
  static acquire(dir: string, jobId: string, staleMs: number): LockOutcome {
    const path = `${dir}.lock`;
    const info: LockInfo = { host: hostname(), workerPid: process.pid, jobId, since: new Date().toISOString() };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx');
        writeSync(fd, JSON.stringify(info));
        closeSync(fd);
        return { held: new ArtifactsLock(path, info) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot create the lock ${path}: ${(err as Error).message}`);
      }
      let other: LockInfo | undefined;
      let age = 0;
      try {
        other = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
        age = Date.now() - statSync(path).mtimeMs;
      } catch {
        // Half-written or just removed by its holder: try again once, then report busy.
        if (attempt === 0) continue;
        return { busy: `${path} is being replaced` };
      }
      const who = `job ${other.jobId} on ${other.host}:${other.workerPid}${other.childPid ? ` (train pid ${other.childPid})` : ''}`;
      if (other.host === info.host) {
        if (alive(other.workerPid)) return { busy: `${path} is held by ${who}` };
        if (alive(other.childPid)) {
          // The worker died (SIGKILL) but its train child did not: stop it so the run resumes from its checkpoint.
          if (cmdline(other.childPid!).includes(dir)) process.kill(other.childPid!, 'SIGTERM');
          return { busy: `${path}: stopping the orphaned train process ${other.childPid} of dead ${who}` };
        }
      } else if (age < staleMs) {
        return { busy: `${path} is held by ${who}, refreshed ${Math.round(age / 1000)} s ago` };
      }
      rmSync(path, { force: true });
    }
    return { busy: `${path} could not be taken` };
  }

  /** Record the train child's pid and keep the lock fresh every `refreshMs` while the run goes on. */
  started(childPid: number | undefined, refreshMs: number): void {
    this.info = { ...this.info, childPid };
    this.write();
    this.timer = setInterval(() => {
      try {
        const now = new Date();
        utimesSync(this.path, now, now);
      } catch {
        // A lock removed under us is reported at release; refreshing is best effort.
      }
    }, refreshMs);
    this.timer.unref();
  }

  private write(): void {
    const fd = openSync(this.path, 'w');
    writeSync(fd, JSON.stringify(this.info));
    closeSync(fd);
  }

  release(): void {
    if (this.timer) clearInterval(this.timer);
    rmSync(this.path, { force: true });
  }
}
