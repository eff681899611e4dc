// The artifacts folder's lock (README, Scale out: "a dead worker's orphaned train on the same host is stopped
// before its run continues elsewhere; a lock from another host counts as abandoned after three --lock_ms without
// a refresh"). Unit tests of ArtifactsLock.acquire with lock files as a dead or foreign worker leaves them.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArtifactsLock, type LockInfo } from '../src/queue/artifacts-lock.ts';

const base = mkdtempSync(join(tmpdir(), 'sc-artlock-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
const folder = () => {
  const dir = join(base, `run${n++}`);
  mkdirSync(dir);
  return dir;
};
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;
const leave = (dir: string, info: Partial<LockInfo>) =>
  writeFileSync(`${dir}.lock`, JSON.stringify({ host: hostname(), workerPid: deadPid(), jobId: 'j-old', since: '2026-01-01T00:00:00.000Z', ...info }));
const held = (o: ReturnType<typeof ArtifactsLock.acquire>) => ('held' in o ? o.held : undefined);

describe('ArtifactsLock', () => {
  it('one holder at a time; released, it can be taken again', () => {
    const dir = folder();
    const a = held(ArtifactsLock.acquire(dir, 'job-a', 6000))!;
    expect(a).toBeDefined();
    expect(JSON.parse(readFileSync(`${dir}.lock`, 'utf8'))).toMatchObject({ host: hostname(), workerPid: process.pid, jobId: 'job-a' });
    const b = ArtifactsLock.acquire(dir, 'job-b', 6000);
    expect(b).toEqual({ busy: `${dir}.lock is held by job job-a on ${hostname()}:${process.pid}` });
    a.release();
    expect(existsSync(`${dir}.lock`)).toBe(false);
    held(ArtifactsLock.acquire(dir, 'job-b', 6000))!.release();
  });

  it('this host: a lock whose worker and train are both gone is taken over', () => {
    const dir = folder();
    leave(dir, { childPid: deadPid() });
    const l = held(ArtifactsLock.acquire(dir, 'job-new', 6000))!;
    expect(JSON.parse(readFileSync(`${dir}.lock`, 'utf8')).jobId).toBe('job-new');
    l.release();
  });

  it("this host: a dead worker's train still running into this folder is stopped (SIGTERM); another process is not", async () => {
    const dir = folder();
    // Stand-ins for the orphaned `train`: this one names the folder on its command line, the other does not.
    const orphan = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'train', '--out', dir], { stdio: 'ignore' });
    const stranger = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const exited = (p: typeof orphan) => new Promise<NodeJS.Signals | null>((res) => p.once('exit', (_c, s) => res(s)));
    const orphanExit = exited(orphan);
    try {
      await new Promise((r) => setTimeout(r, 300)); // both running, their command lines readable
      leave(dir, { childPid: orphan.pid });
      expect(ArtifactsLock.acquire(dir, 'job-new', 6000)).toEqual({
        busy: `${dir}.lock: stopping the orphaned train process ${orphan.pid} of dead job j-old on ${hostname()}:${JSON.parse(readFileSync(`${dir}.lock`, 'utf8')).workerPid} (train pid ${orphan.pid})`,
      });
      expect(await orphanExit).toBe('SIGTERM');
      // Gone now: the next attempt takes the lock.
      held(ArtifactsLock.acquire(dir, 'job-new', 6000))!.release();

      const other = folder();
      leave(other, { childPid: stranger.pid });
      expect(ArtifactsLock.acquire(other, 'job-new', 6000)).toMatchObject({ busy: expect.stringContaining(`stopping the orphaned train process ${stranger.pid}`) });
      await new Promise((r) => setTimeout(r, 300));
      expect(stranger.exitCode).toBe(null); // not a train into that folder: left alone
      expect(stranger.signalCode).toBe(null);
    } finally {
      orphan.kill('SIGKILL');
      stranger.kill('SIGKILL');
    }
  });

  it('another host: held while refreshed within staleMs, abandoned after', () => {
    const dir = folder();
    leave(dir, { host: 'elsewhere', workerPid: 1234, childPid: 5678 });
    expect(ArtifactsLock.acquire(dir, 'job-new', 6000)).toEqual({ busy: `${dir}.lock is held by job j-old on elsewhere:1234 (train pid 5678), refreshed 0 s ago` });
    const old = new Date(Date.now() - 7000);
    utimesSync(`${dir}.lock`, old, old);
    const l = held(ArtifactsLock.acquire(dir, 'job-new', 6000))!;
    expect(JSON.parse(readFileSync(`${dir}.lock`, 'utf8'))).toMatchObject({ host: hostname(), jobId: 'job-new' });
    l.release();
  });

  it('the holder refreshes the lock while its run goes on', async () => {
    const dir = folder();
    const l = held(ArtifactsLock.acquire(dir, 'job-a', 6000))!;
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${dir}.lock`, old, old);
    l.started(4242, 50);
    await new Promise((r) => setTimeout(r, 200));
    expect(Date.now() - statSync(`${dir}.lock`).mtimeMs).toBeLessThan(5000);
    expect(JSON.parse(readFileSync(`${dir}.lock`, 'utf8')).childPid).toBe(4242);
    l.release();
  });
});
