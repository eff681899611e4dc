/**
 * Vitest global setup: the CLI tests run the real binary (bin/sparsecast.js → dist/cli.js), as a user does. So
 * that a test never runs a stale bundle after a source edit, rebuild dist/cli.js here when any file under src/
 * (or bench/sparsity.ts, which the CLI bundles) is newer than it. esbuild bundles it in about a second; the
 * wasm kernels it embeds come from src/backend/wasm/generated (npm run build:wasm), which this does not redo.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildCliBundle } from '../../scripts/build-cli.mjs';

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

export default async function setup(): Promise<void> {
  const out = 'dist/cli.js';
  const sources = Math.max(newestMtime('src'), statSync('bench/sparsity.ts').mtimeMs, statSync('package.json').mtimeMs);
  if (existsSync(out) && statSync(out).mtimeMs >= sources) return;
  await buildCliBundle();
}
