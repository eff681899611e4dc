/**
 * Headless Chromium: bundles test/browser/entry.ts with esbuild into a temp dir, serves it from 127.0.0.1 on a
 * random port, drives Debian's /usr/bin/chromium with playwright-core (never a downloaded browser, fresh profile),
 * and checks that every conformance row is ok there, and that kernel outputs (hashed per row) and the tiny
 * training run are bit-identical to Node (CPU backends); the webgpu backend (--enable-unsafe-webgpu: SwiftShader,
 * navigator.gpu needs the secure 127.0.0.1 origin) must pass every conformance row and train the tiny run within
 * 1e-4 of wasm's losses.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe } from 'vitest';
import type { SuiteResult } from './shared/suite.ts';
import { nodeSuite, printRows, runtimeChecks } from './shared/expect-suite.ts';
import { openPage, pageGlobal, requireChromium, serveFiles, type Cleanup } from './shared/chromium.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('Chromium (headless, playwright-core)', () => {
  let result: SuiteResult;
  let node: SuiteResult;
  const cleanup: Cleanup = [];

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
    requireChromium();
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
    const url = await serveFiles(work, ['index.html', 'app.js'], cleanup);
    const nodeRuns = nodeSuite();
    const { page, logs } = await openPage(url, cleanup);
    const raw = await pageGlobal<typeof window.__results>(page, '__results', logs, 240_000);
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
