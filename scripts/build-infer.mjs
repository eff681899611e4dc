// Bundle the inference entry `sparsecast/infer` (dist/infer.js), its edge variant (dist/infer-edge.js: the
// caller passes the WebAssembly.Module, as Cloudflare Workers import build/kernels.wasm) and the embedded
// kernels loaded on demand by dist/infer.js when no module is passed (dist/infer-wasm.js).
//
// The autograd tape is replaced by a no-op `record` (src/infer/no-tape.ts), so no tape or backward code ships.
// Afterwards the bundles are checked: no `node:` imports, no eval / new Function, no tape, no training or CSV
// code; and the sizes are printed (gzip).
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = process.argv[2] ? resolve(process.argv[2]) : join(root, 'dist');
const tape = join(root, 'src', 'autograd', 'tape.ts');
const noTape = join(root, 'src', 'infer', 'no-tape.ts');

/** Route the tape to the no-op, and the embedded kernels to their own file. */
const inferPlugin = {
  name: 'sparsecast-infer',
  setup(b) {
    b.onResolve({ filter: /autograd\/tape\.ts$/ }, (args) => {
      const p = resolve(args.resolveDir, args.path);
      return p === tape ? { path: noTape } : undefined;
    });
    b.onResolve({ filter: /embedded-wasm\.ts$/ }, (args) => (args.importer.endsWith(join('infer', 'index.ts')) ? { path: './infer-wasm.js', external: true } : undefined));
  },
};

const common = {
  bundle: true, format: 'esm', target: 'es2022', platform: 'neutral', minify: true, legalComments: 'none',
  logLevel: 'warning', plugins: [inferPlugin], metafile: true,
};
const results = {};
results['infer.js'] = await build({ ...common, entryPoints: [join(root, 'src/infer/index.ts')], outfile: join(outdir, 'infer.js') });
results['infer-edge.js'] = await build({ ...common, entryPoints: [join(root, 'src/infer/edge.ts')], outfile: join(outdir, 'infer-edge.js') });
results['infer-wasm.js'] = await build({ ...common, entryPoints: [join(root, 'src/infer/embedded-wasm.ts')], outfile: join(outdir, 'infer-wasm.js') });

const FORBIDDEN_INPUTS = [/src\/autograd\//, /src\/train\//, /src\/data\/(csv|dataset|forecast-dataset)\.ts$/, /src\/cli\//, /src\/sparse\//, /src\/backend\/webgpu\//];
const sizes = {};
for (const [name, r] of Object.entries(results)) {
  const inputs = Object.keys(r.metafile.inputs);
  const bad = inputs.filter((i) => FORBIDDEN_INPUTS.some((re) => re.test(i)));
  if (bad.length) throw new Error(`build-infer: ${name} bundles code it must not: ${bad.join(', ')}`);
  const text = readFileSync(join(outdir, name), 'utf8');
  for (const [what, re] of [['a node: import', /["']node:/], ['eval', /(?<![.\w$])eval\((?!\)\{)/], ['new Function', /new Function\b/], ['the autograd tape', /TapeNode|topological/]]) {
    if (re.test(text)) throw new Error(`build-infer: ${name} contains ${what}`);
  }
  sizes[name] = { bytes: text.length, gzip: gzipSync(text, { level: 9 }).length };
}
const wasm = readFileSync(join(root, 'build', 'kernels.wasm'));
sizes['kernels.wasm'] = { bytes: wasm.length, gzip: gzipSync(wasm, { level: 9 }).length };
console.log(`infer: ${Object.entries(sizes).map(([n, s]) => `${n} ${(s.bytes / 1024).toFixed(1)} KiB (${(s.gzip / 1024).toFixed(1)} KiB gzip)`).join(', ')}`);
if (process.env.SPARSECAST_INFER_SIZES) console.log(JSON.stringify(sizes));
