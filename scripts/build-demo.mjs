#!/usr/bin/env node
// Build the browser demo (src/web) into a static folder: index.html, app.js (the page), worker.js (training,
// a module worker) and data/*.csv (the shipped data sets). Usage: node scripts/build-demo.mjs [OUT_DIR]
// (default build/demo). The engine's Node-only imports (node:fs in checkpoint files, unused by the demo) are
// replaced by stubs that throw if ever called.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { nodeStub } from './node-stub.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export async function buildDemo(outDir = join(root, 'build', 'demo')) {
  const out = resolve(outDir);
  // Generated, git-ignored sources: the wasm kernels as base64 and the WGSL shader map.
  if (!existsSync(join(root, 'src/backend/wasm/generated/kernels.bytes.ts'))) {
    execFileSync(process.execPath, [join(root, 'scripts/build-wasm.mjs')], { stdio: 'inherit' });
  }
  execFileSync(process.execPath, [join(root, 'scripts/build-shaders.mjs')], { stdio: 'inherit' });
  mkdirSync(join(out, 'data'), { recursive: true });
  const common = {
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022', logLevel: 'warning', plugins: [nodeStub],
    // A variable-specifier import of the Node 'webgpu' package stays a runtime import the browser never reaches.
    external: ['webgpu'],
  };
  await Promise.all([
    build({ ...common, entryPoints: [join(root, 'src/web/main.ts')], outfile: join(out, 'app.js') }),
    build({ ...common, entryPoints: [join(root, 'src/web/worker.ts')], outfile: join(out, 'worker.js') }),
  ]);
  copyFileSync(join(root, 'src/web/index.html'), join(out, 'index.html'));
  for (const f of readdirSync(join(root, 'data')).filter((f) => f.endsWith('.csv'))) copyFileSync(join(root, 'data', f), join(out, 'data', f));
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const out = await buildDemo(process.argv[2]);
  console.log(`demo built in ${out}`);
}
