/**
 * The wasm thread pool in headless Chromium (Debian's /usr/bin/chromium through playwright-core, as
 * test/browser.test.ts): the page is served cross-origin isolated (COOP + COEP), so SharedArrayBuffer exists;
 * on the page's main thread threads fall back to one with one warning, and in a Worker two threads (module
 * Workers from blob URLs) give the same bytes as one (test/shared/threads-check.ts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { openPage, pageGlobal, requireChromium, serveFiles, type Cleanup } from './shared/chromium.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const cleanup: Cleanup = [];

afterAll(async () => {
  for (const f of cleanup) await f().catch(() => undefined);
});

describe('wasm threads in Chromium', () => {
  it('falls back on the main thread, runs 2 threads bit-identically in a Worker', async () => {
    requireChromium();
    const work = await mkdtemp(join(tmpdir(), 'sparsecast-threads-'));
    cleanup.push(() => rm(work, { recursive: true, force: true }));
    for (const [entry, out] of [['threads-entry.ts', 'app.js'], ['threads-worker.ts', 'threads-worker.js']] as const) {
      await build({
        entryPoints: [join(root, 'test', 'browser', entry)],
        bundle: true, format: 'esm', platform: 'browser', target: 'es2022', outfile: join(work, out), logLevel: 'warning',
      });
    }
    await writeFile(join(work, 'index.html'), '<!doctype html>\n<html><head><meta charset="utf-8"><title>threads</title></head>\n<body><script type="module" src="./app.js"></script></body></html>\n');
    const url = await serveFiles(work, ['index.html', 'app.js', 'threads-worker.js'], cleanup, { isolated: true });
    const { page, logs } = await openPage(url, cleanup);
    const r = await pageGlobal<{
      isolated: boolean; mainThreads: number; warnings: string[]; worker: { threads?: number; checks?: number; mismatches?: string[]; error?: string };
    }>(page, '__threads', logs, 120_000);
    expect(r.isolated).toBe(true);
    expect(r.mainThreads).toBe(1);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/wasm threads unavailable \(.*main thread.*Worker\); running on one thread/);
    expect(r.worker.error, logs.join('\n')).toBeUndefined();
    expect(r.worker.threads).toBe(2);
    expect(r.worker.mismatches).toEqual([]);
    expect(r.worker.checks).toBeGreaterThan(3);
  }, 180_000);
});
