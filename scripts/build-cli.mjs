// The CLI bundle, dist/cli.js (Node, ESM; `webgpu` stays an import resolved at run time because it is an
// optional peer; bullmq and ioredis, which the queue commands load, are dependencies installed beside the
// package rather than bundled). Used by build-dist.mjs and by the tests' global setup (test/setup/cli-bundle.ts), which
// rebuilds it when a source is newer so CLI tests never run a stale binary.
import { build } from 'esbuild';

export async function buildCliBundle() {
  await build({
    bundle: true, format: 'esm', target: 'es2022', sourcemap: true, logLevel: 'warning',
    // As the library bundles (build-dist.mjs): whitespace and syntax minified, names kept.
    minifyWhitespace: true, minifySyntax: true, keepNames: true,
    entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', platform: 'node', external: ['webgpu', 'bullmq', 'ioredis'],
  });
}
