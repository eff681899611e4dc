/**
 * The wasm thread pool in headless Chromium (Debian's /usr/bin/chromium through playwright-core, as
 * test/browser.test.ts): the page is served cross-origin isolated (COOP + COEP), so SharedArrayBuffer exists;
 * on the page's main thread threads fall back to one with one warning, and in a Worker two threads (module
 * Workers from blob URLs) give the same bytes as one (test/shared/threads-check.ts).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
const root = fileURLToPath(new URL('..', import.meta.url));
const cleanup: Array<() => Promise<unknown>> = [];

afterAll(async () => {
  for (const f of cleanup) await f().catch(() => undefined);
});

/** Serve exactly `files` from `dir` on 127.0.0.1 with the headers that make a page cross-origin isolated. */
async function serveIsolated(dir: string, files: string[]): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const name = path === '/' ? 'index.html' : path.slice(1);
    if (!files.includes(name)) {
      res.writeHead(404).end('not found');
      return;
    }
    readFile(join(dir, name)).then(
      (body) => {
        res.writeHead(200, {
          'content-type': name.endsWith('.html') ? 'text/html; charset=utf-8' : 'text/javascript; charset=utf-8',
          'cache-control': 'no-store',
          'cross-origin-opener-policy': 'same-origin',
          'cross-origin-embedder-policy': 'require-corp',
        });
        res.end(body);
      },
      () => res.writeHead(500).end('read error'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

describe('wasm threads in Chromium', () => {
  it('falls back on the main thread, runs 2 threads bit-identically in a Worker', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`bash scripts/setup-system.sh\` (as root)`);
    const work = await mkdtemp(join(tmpdir(), 'sparsecast-threads-'));
    cleanup.push(() => rm(work, { recursive: true, force: true }));
    for (const [entry, out] of [['threads-entry.ts', 'app.js'], ['threads-worker.ts', 'threads-worker.js']] as const) {
      await build({
        entryPoints: [join(root, 'test', 'browser', entry)],
        bundle: true, format: 'esm', platform: 'browser', target: 'es2022', outfile: join(work, out), logLevel: 'warning',
      });
    }
    await writeFile(join(work, 'index.html'), '<!doctype html>\n<html><head><meta charset="utf-8"><title>threads</title></head>\n<body><script type="module" src="./app.js"></script></body></html>\n');
    const { server, url } = await serveIsolated(work, ['index.html', 'app.js', 'threads-worker.js']);
    cleanup.push(() => new Promise((resolve) => server.close(resolve)));
    const profile = await mkdtemp(join(tmpdir(), 'sparsecast-chromium-profile-'));
    cleanup.push(() => rm(profile, { recursive: true, force: true }));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    cleanup.unshift(() => context.close());
    const page = context.pages()[0] ?? (await context.newPage());
    const logs: string[] = [];
    page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
    await page.goto(url);
    await page.waitForFunction(() => (window as { __threads?: unknown }).__threads !== undefined, undefined, { timeout: 120_000, polling: 200 })
      .catch((e: Error) => {
        throw new Error(`the page produced no result: ${e.message}\n${logs.join('\n')}`);
      });
    const r = (await page.evaluate(() => (window as { __threads?: unknown }).__threads)) as {
      isolated: boolean; mainThreads: number; warnings: string[]; worker: { threads?: number; checks?: number; mismatches?: string[]; error?: string };
    };
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
