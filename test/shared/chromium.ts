/**
 * Headless Chromium for the browser tests (Node only): Debian's /usr/bin/chromium driven by playwright-core
 * with a fresh profile and no background traffic (never a downloaded browser), a static server for exactly
 * the files a test built, and the page's result read from a global the page sets.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Sandbox off (containers), no GPU process, no background networking; WebGPU on for the suites that use it. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--enable-unsafe-webgpu',
];

/** Cleanups a test file runs in its afterAll (the latest context first). */
export type Cleanup = Array<() => Promise<unknown>>;

export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run \`bash scripts/setup-system.sh\` (as root) to install Debian's chromium, or run the whole test command \`bash scripts/test.sh\``);
  }
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm', '.json': 'application/json', '.sc': 'application/octet-stream',
};

/**
 * Serve exactly `files` of `dir` (no directory traversal; `/` is index.html) on 127.0.0.1 at a random port.
 * `isolated`: with COOP + COEP, so the page is cross-origin isolated (SharedArrayBuffer, wasm threads).
 */
export async function serveFiles(dir: string, files: string[], cleanup: Cleanup, opts: { isolated?: boolean } = {}): Promise<string> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const name = path === '/' ? 'index.html' : path.slice(1);
    if (!files.includes(name)) {
      res.writeHead(404).end('not found');
      return;
    }
    readFile(join(dir, name)).then(
      (body) => {
        res.writeHead(200, {
          'content-type': MIME[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream',
          'cache-control': 'no-store',
          ...(opts.isolated ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {}),
        });
        res.end(body);
      },
      () => res.writeHead(500).end('read error'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/**
 * Launch Chromium on a fresh profile (removed afterwards unless `profile` is given), open `url`, and collect the
 * page's console messages and errors into `logs` (for error messages).
 */
export async function openPage(
  url: string, cleanup: Cleanup, opts: { profile?: string; context?: Parameters<typeof chromium.launchPersistentContext>[1] } = {},
): Promise<{ page: Page; context: BrowserContext; logs: string[] }> {
  requireChromium();
  let profile = opts.profile;
  if (profile === undefined) {
    const made = await mkdtemp(join(tmpdir(), 'sparsecast-chromium-profile-'));
    cleanup.push(() => rm(made, { recursive: true, force: true }));
    profile = made;
  }
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, ...opts.context });
  cleanup.unshift(() => context.close());
  const page = context.pages()[0] ?? (await context.newPage());
  const logs: string[] = [];
  page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
  await page.goto(url);
  return { page, context, logs };
}

/** Wait until the page sets `window[name]` and return it; on timeout, an error with the page's logs. */
export async function pageGlobal<T>(page: Page, name: string, logs: string[], timeoutMs: number): Promise<T> {
  try {
    await page.waitForFunction((n) => (window as unknown as Record<string, unknown>)[n] !== undefined, name, { timeout: timeoutMs, polling: 200 });
  } catch (e) {
    throw new Error(`the page produced no result (window.${name}): ${(e as Error).message}\n${logs.join('\n')}`);
  }
  return (await page.evaluate((n) => (window as unknown as Record<string, unknown>)[n], name)) as T;
}
