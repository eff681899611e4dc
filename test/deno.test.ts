/**
 * Deno: spawns test/deno/run.ts (the library's TypeScript sources, no permissions) and checks that every
 * conformance row is ok there, and that kernel outputs (hashed per row) and the tiny training run are
 * bit-identical to the same runs in Node, per CPU backend; and that the webgpu backend (navigator.gpu) passes
 * every conformance row and trains the tiny run within 1e-4 of wasm's losses.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe } from 'vitest';
import type { SuiteResult } from './shared/suite.ts';
import { nodeSuite, printRows, runtimeChecks } from './shared/expect-suite.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const deno = join(root, 'node_modules', '.bin', 'deno');

function runDeno(): Promise<SuiteResult> {
  return new Promise((resolve, reject) => {
    execFile(
      deno,
      ['run', '--no-prompt', '--no-config', join('test', 'deno', 'run.ts')],
      {
        cwd: root,
        maxBuffer: 64 * 1024 * 1024,
        timeout: 300_000,
        env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
      },
      (err, stdout, stderr) => {
        const line = stdout.trim().split('\n').pop() ?? '';
        if (err) {
          reject(new Error(`deno run failed (${err.message}):\n${stderr}\n${stdout.slice(-2000)}`));
          return;
        }
        try {
          resolve(JSON.parse(line) as SuiteResult);
        } catch {
          reject(new Error(`deno printed no JSON result line:\n${stderr}\n${stdout.slice(-2000)}`));
        }
      },
    );
  });
}

describe('Deno', () => {
  let result: SuiteResult;
  let node: SuiteResult;

  // A setup failure fails every test with its message (never a skip).
  let initError: unknown = null;
  const ready = (): void => {
    if (initError) throw initError;
  };

  beforeAll(async () => {
    try {
      if (!existsSync(deno)) throw new Error(`deno not found at ${deno}: run npm ci (deno is a devDependency)`);
      // The webgpu backend's shader map is generated from shaders/*.wgsl (git-ignored).
      execFileSync(process.execPath, [join(root, 'scripts', 'build-shaders.mjs')]);
      [result, node] = await Promise.all([runDeno(), nodeSuite()]);
      printRows(result);
    } catch (e) {
      initError = e;
    }
  }, 300_000);

  runtimeChecks('Deno', /^deno /, () => {
    ready();
    return { result, node };
  });
});
