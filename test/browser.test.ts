/**
 * Headless Chromium: bundles test/browser/entry.ts with esbuild into a temp dir, serves it from 127.0.0.1 on a
 * random port, drives Debian's /usr/bin/chromium with playwright-core (never a downloaded browser, fresh profile),
 * and checks that every conformance row is ok there, and that kernel outputs (hashed per row) and the tiny
 * training run are bit-identical to Node (CPU backends); the webgpu backend (--enable-unsafe-webgpu: SwiftShader,
 * navigator.gpu needs the secure 127.0.0.1 origin) must pass every conformance row and train the tiny run within
 * 1e-4 of wasm's losses.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe } from 'vitest';
import type { SuiteResult } from './shared/suite.ts';
import { nodeSuite, printRows, runtimeChecks } from './shared/expect-suite.ts';

const CHROMIUM = '/usr/bin/chromium';
const root = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--enable-unsafe-webgpu',
];

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

/** Serve exactly the files in `dir` (no directory traversal) on 127.0.0.1, random port. */
async function serve(dir: string, files: string[]): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const name = path === '/' ? 'index.html' : path.slice(1);
    if (!files.includes(name)) {
      res.writeHead(404).end('not found');
      return;
    }
    readFile(join(dir, name)).then(
      (body) => {
        res.writeHead(200, { 'content-type': MIME[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream', 'cache-control': 'no-store' });
        res.end(body);
      },
      () => res.writeHead(500).end('read error'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/` };
}

describe('Chromium (headless, playwright-core)', () => {
  let result: SuiteResult;
  let node: SuiteResult;
  const cleanup: Array<() => Promise<unknown>> = [];

  // A setup failure fails every test with its message (a missing browser must never read as a skip).
  let initError: unknown = null;
  const ready = (): void => {
    if (initError) throw initError;
  };

  beforeAll(async () => {
    try {
      await setup();
    } catch (e) {
      initError = e;
    }
  }, 300_000);

  async function setup(): Promise<void> {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: run \`bash scripts/setup-system.sh\` (as root) to install Debian's chromium, or run the whole test command \`bash scripts/test.sh\``);
    }
    // The webgpu backend's shader map is generated from shaders/*.wgsl (git-ignored).
    execFileSync(process.execPath, [join(root, 'scripts', 'build-shaders.mjs')]);
    const work = await mkdtemp(join(tmpdir(), 'sparsecast-browser-'));
    cleanup.push(() => rm(work, { recursive: true, force: true }));
    await build({
      entryPoints: [join(root, 'test', 'browser', 'entry.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      outfile: join(work, 'app.js'),
      logLevel: 'warning',
    });
    await writeFile(
      join(work, 'index.html'),
      '<!doctype html>\n<html><head><meta charset="utf-8"><title>sparsecast conformance</title></head>\n' +
        '<body>running…<script type="module" src="./app.js"></script></body></html>\n',
    );
    const { server, url } = await serve(work, ['index.html', 'app.js']);
    cleanup.push(() => new Promise((resolve) => server.close(resolve)));

    const profile = await mkdtemp(join(tmpdir(), 'sparsecast-chromium-profile-'));
    cleanup.push(() => rm(profile, { recursive: true, force: true }));
    const context: BrowserContext = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    cleanup.unshift(() => context.close());
    const page = context.pages()[0] ?? (await context.newPage());
    const logs: string[] = [];
    page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));

    const nodeRuns = nodeSuite();
    await page.goto(url);
    try {
      await page.waitForFunction(() => window.__results !== undefined, undefined, { timeout: 240_000, polling: 200 });
    } catch (e) {
      throw new Error(`the page produced no results: ${(e as Error).message}\n${logs.join('\n')}`);
    }
    const raw = await page.evaluate(() => window.__results);
    if (!raw || 'error' in raw && !('rows' in raw)) {
      throw new Error(`the suite failed in Chromium: ${(raw as { error?: string } | undefined)?.error}\n${logs.join('\n')}`);
    }
    result = raw as SuiteResult;
    node = await nodeRuns;
    printRows(result);
  }

  afterAll(async () => {
    for (const f of cleanup) await f().catch(() => undefined);
  });

  runtimeChecks('Chromium', /^chromium /, () => {
    ready();
    return { result, node };
  });
});
