// Bundle the inference entry `sparsecast/infer` (dist/infer.js), its edge variant (dist/infer-edge.js: the
// caller passes the WebAssembly.Module, as Cloudflare Workers import build/kernels-infer.wasm), the embedded
// inference kernels loaded on demand by dist/infer.js when no module is passed (dist/infer-wasm.js), and the
// plain-TypeScript kernels loaded on demand for `backend: 'js'` (dist/infer-js.js).
//
// The autograd tape is replaced by a no-op `record` (src/infer/no-tape.ts), so no tape or backward code ships
// (and the multi-threaded GEMM plans by a stub, src/infer/no-gemm-threads.ts: the entry never has threads);
// esbuild drops the calls to the empty `record`, and a second minify pass over each bundle drops the gradient
// helpers only those calls referenced. Afterwards the bundles are checked: no `node:` imports, no eval / new
// Function, no tape, no training or CSV code, no JS kernels in the entries; and the sizes are printed (gzip).
// The budgets (test/infer-size.test.ts asserts them): the edge path, entry JS gzip + inference wasm gzip ≤ 60 kB
// (issue 7); the default path, dist/infer.js + its embedded-kernels chunk dist/infer-wasm.js ≤ 72 kB.
import { build, transform } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = process.argv[2] ? resolve(process.argv[2]) : join(root, 'dist');
const tape = join(root, 'src', 'autograd', 'tape.ts');
const noTape = join(root, 'src', 'infer', 'no-tape.ts');
const backendsTs = join(root, 'src', 'infer', 'backends.ts');
const gemmParallel = join(root, 'src', 'backend', 'wasm', 'kernels', 'gemm-parallel.ts');
const noGemmThreads = join(root, 'src', 'infer', 'no-gemm-threads.ts');

/**
 * Route the tape to the no-op, the multi-threaded GEMM plans to a stub (the inference backend has no thread
 * pool), and the on-demand parts (embedded kernels, JS kernels) to their own files. */
const inferPlugin = {
  name: 'sparsecast-infer',
  setup(b) {
    b.onResolve({ filter: /autograd\/tape\.ts$/ }, (args) => {
      const p = resolve(args.resolveDir, args.path);
      return p === tape ? { path: noTape } : undefined;
    });
    b.onResolve({ filter: /gemm-parallel\.ts$/ }, (args) => (resolve(args.resolveDir, args.path) === gemmParallel ? { path: noGemmThreads } : undefined));
    b.onResolve({ filter: /embedded-wasm\.ts$/ }, (args) => (args.importer.endsWith(join('infer', 'index.ts')) ? { path: './infer-wasm.js', external: true } : undefined));
    b.onResolve({ filter: /js-backend\.ts$/ }, (args) => (args.importer === backendsTs ? { path: './infer-js.js', external: true } : undefined));
  },
};

const common = {
  bundle: true, format: 'esm', target: 'es2022', platform: 'neutral', minify: true, legalComments: 'none', charset: 'utf8',
  logLevel: 'warning', plugins: [inferPlugin], metafile: true, write: false,
};

/** Minify the bundle again until it stops shrinking: code only the dropped `record` calls used goes. */
async function reminify(code) {
  for (let pass = 0; pass < 4; pass++) {
    const r = await transform(code, { format: 'esm', target: 'es2022', minify: true, treeShaking: true, legalComments: 'none', charset: 'utf8', logLevel: 'warning' });
    if (r.code.length >= code.length) break;
    code = r.code;
  }
  return code;
}

const ENTRIES = {
  'infer.js': 'src/infer/index.ts',
  'infer-edge.js': 'src/infer/edge.ts',
  'infer-wasm.js': 'src/infer/embedded-wasm.ts',
  'infer-js.js': 'src/infer/js-backend.ts',
};
const FORBIDDEN_INPUTS = [/src\/autograd\//, /src\/train\//, /src\/data\/(csv|dataset|forecast-dataset)\.ts$/, /src\/cli\//, /src\/sparse\//, /src\/backend\/webgpu\//];
/** The entries load the JS kernels and the embedded wasm on demand only. */
const ENTRY_FORBIDDEN = [/src\/backend\/js\//, /generated\/kernels(-relaxed|-threads)?\.bytes\.ts$/];
mkdirSync(outdir, { recursive: true });
const sizes = {};
for (const [name, entry] of Object.entries(ENTRIES)) {
  const r = await build({ ...common, entryPoints: [join(root, entry)], outfile: join(outdir, name) });
  const inputs = Object.keys(r.metafile.inputs);
  const shipped = Object.entries(Object.values(r.metafile.outputs)[0].inputs).filter(([, v]) => v.bytesInOutput > 0).map(([k]) => k);
  const bad = inputs.filter((i) => FORBIDDEN_INPUTS.some((re) => re.test(i)));
  if (name === 'infer.js' || name === 'infer-edge.js') bad.push(...shipped.filter((i) => ENTRY_FORBIDDEN.some((re) => re.test(i))));
  if (bad.length) throw new Error(`build-infer: ${name} bundles code it must not: ${bad.join(', ')}`);
  const text = await reminify(r.outputFiles[0].text);
  for (const [what, re] of [['a node: import', /["']node:/], ['eval', /(?<![.\w$])eval\((?!\)\{)/], ['new Function', /new Function\b/], ['the autograd tape', /TapeNode|topological/]]) {
    if (re.test(text)) throw new Error(`build-infer: ${name} contains ${what}`);
  }
  writeFileSync(join(outdir, name), text);
  sizes[name] = { bytes: Buffer.byteLength(text), gzip: gzipSync(text, { level: 9 }).length };
}
for (const file of ['kernels-infer.wasm', 'kernels.wasm']) {
  const wasm = readFileSync(join(root, 'build', file));
  sizes[file] = { bytes: wasm.length, gzip: gzipSync(wasm, { level: 9 }).length };
}
const total = Math.max(sizes['infer.js'].gzip, sizes['infer-edge.js'].gzip) + sizes['kernels-infer.wasm'].gzip;
const lazy = sizes['infer.js'].gzip + sizes['infer-wasm.js'].gzip;
sizes.budget = { gzip: total, limit: 60_000 };
sizes.budget_default = { gzip: lazy, limit: 72_000 };
console.log(`infer: ${Object.entries(sizes).filter(([n]) => !n.startsWith('budget')).map(([n, s]) => `${n} ${(s.bytes / 1024).toFixed(1)} KiB (${(s.gzip / 1024).toFixed(1)} KiB gzip)`).join(', ')}; edge path (entry JS + kernels-infer.wasm) ${total} B gzip (budget 60000); default path (infer.js + infer-wasm.js) ${lazy} B gzip (budget 72000)`);
if (process.env.SPARSECAST_INFER_SIZES) console.log(JSON.stringify(sizes));
