// Bundle the library (platform-neutral ESM) and the CLI (Node) with esbuild, and emit the type declarations
// (tsc, declarations only; relative `.ts` specifiers rewritten to `.js`, which TypeScript resolves to the
// `.d.ts` beside them).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildCliBundle } from './build-cli.mjs';
import { nodeStub } from './node-stub.mjs';

// Whitespace and syntax minified, names kept (stack traces and class names read as in the source; the source
// maps, not published, map back to it): a third smaller, which keeps the tarball within its budget.
const BUNDLE_MINIFY = { minifyWhitespace: true, minifySyntax: true, keepNames: true };
const common = { bundle: true, format: 'esm', target: 'es2022', sourcemap: true, logLevel: 'warning', ...BUNDLE_MINIFY };
// Node and Deno resolve `node:` imports (checkpoint and run-folder files); the browser build (the package's
// `browser` condition, which bundlers pick) replaces them with stubs that throw if called.
await build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.js', platform: 'neutral', external: ['webgpu', 'node:*'] });
await build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.browser.js', platform: 'browser', external: ['webgpu'], plugins: [nodeStub] });
await buildCliBundle();

rmSync('dist/types', { recursive: true, force: true });
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
const walk = (dir) => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));
for (const file of walk('dist/types').filter((f) => f.endsWith('.d.ts'))) {
  const text = readFileSync(file, 'utf8');
  writeFileSync(file, text.replace(/(from\s+['"]|import\(['"]|import\s+['"])(\.{1,2}\/[^'"]+)\.ts(['"])/g, '$1$2.js$3'));
}
console.log('dist: index.js, index.browser.js, cli.js, types/');
