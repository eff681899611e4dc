// Bundle the GPU run's two programs into plain JS for the carried folder: the conformance suite
// (scripts/conformance.ts) and the bench driver (bench/run.ts). A device machine gets a bare Node binary and no
// node_modules, so neither tsx (a TypeScript loader) nor esbuild can run there; the bundles need only Node and
// the `webgpu` package (left as an import, resolved from DIR/node_modules/webgpu, which prepare.sh assembles).
//
//   node scripts/gpu/bundle.mjs DIR      writes DIR/conformance.mjs and DIR/bench.mjs
//
// DIR must be one level below the repo root (e.g. .gpu): the bundles find data/ETTh1.csv (bench train) as
// `<bundle>/../data`, the path bench/train.ts computes from its own location one level down.
import { build } from 'esbuild';
import { resolve, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = process.argv[2];
if (!dir) {
  console.error('bundle: usage: node scripts/gpu/bundle.mjs DIR');
  process.exit(2);
}
const out = resolve(dir);
if (dirname(out) !== root) {
  console.error(`bundle: ${relative(root, out) || out} must be a folder directly in the repo root (${root}), as the bundles find data/ one level up`);
  process.exit(2);
}

// bench/tfjs-peer.ts imports esbuild at the top (it bundles the tfjs peer at first use); the GPU run never
// uses the peer, and esbuild's native binary does not travel, so the bundle gets a stand-in that says so.
const noTfjsPeer = {
  name: 'no-tfjs-peer',
  setup(b) {
    b.onResolve({ filter: /\/tfjs-peer(\.ts)?$/ }, () => ({ path: 'tfjs-peer', namespace: 'gpu-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'gpu-stub' }, () => ({
      contents: "export function loadTfjsWasm() { throw new Error('the tfjs peer is not part of the GPU bundle (scripts/gpu/bundle.mjs): run the CPU benches from the sources'); }",
      loader: 'js',
    }));
  },
};

const common = {
  bundle: true, format: 'esm', platform: 'node', target: 'node20', logLevel: 'warning', absWorkingDir: root,
  external: ['webgpu'], plugins: [noTfjsPeer],
  // The bundle carries the WGSL shader map it was built with; this tells the programs not to regenerate it.
  define: { 'process.env.SPARSECAST_BUNDLED': '"1"' },
};
await build({ ...common, entryPoints: ['scripts/conformance.ts'], outfile: `${out}/conformance.mjs` });
await build({ ...common, entryPoints: ['bench/run.ts'], outfile: `${out}/bench.mjs` });
console.log(`bundle: ${relative(root, out)}/conformance.mjs, ${relative(root, out)}/bench.mjs`);
