import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';
const root = '/work/main';
const tape = join(root, 'src/autograd/tape.ts'), noTape = join(root, 'src/infer/no-tape.ts');
const plugin = { name: 'p', setup(b) {
  b.onResolve({ filter: /autograd\/tape\.ts$/ }, (a) => resolve(a.resolveDir, a.path) === tape ? { path: noTape } : undefined);
  b.onResolve({ filter: /embedded-wasm\.ts$/ }, (a) => a.importer.endsWith('infer/index.ts') ? { path: './infer-wasm.js', external: true } : undefined);
  if (process.env.NOJS) b.onResolve({ filter: /js\/backend\.ts$/ }, (a) => ({ path: './infer-js.js', external: true }));
  if (process.env.PURE) b.onLoad({ filter: /src\/(ops|sparse|nn|models)\/.*\.ts$/ }, (a) => {
    const src = readFileSync(a.path, 'utf8');
    if (!/from '\.\.\/autograd\/tape\.ts'/.test(src)) return undefined;
    return { contents: src.replace(/(?<![\w$.])record\(/g, '/* @__PURE__ */ record('), loader: 'ts' };
  });
}};
const r = await build({ bundle: true, format: 'esm', target: 'es2022', platform: 'neutral', minify: true, legalComments: 'none', write: !!process.env.WRITE, plugins: [plugin], metafile: true, entryPoints: [join(root, process.argv[2] ?? 'src/infer/index.ts')], outfile: '/tmp/x.js' });
const out = Object.values(r.metafile.outputs)[0];
const text = r.outputFiles ? r.outputFiles[0].text : readFileSync('/tmp/x.js','utf8');
console.log('gzip', gzipSync(text, { level: 9 }).length, 'raw', text.length);
const rows = Object.entries(out.inputs).map(([k, v]) => [v.bytesInOutput, k]).sort((a, b) => b[0] - a[0]);
const byDir = {};
for (const [b, k] of rows) { const d = k.split('/').slice(0, -1).join('/'); byDir[d] = (byDir[d] ?? 0) + b; }
console.log(Object.entries(byDir).sort((a,b)=>b[1]-a[1]).map(([d,b])=>`${b}\t${d}`).join('\n'));
if (process.env.ALL) console.log(rows.map(([b, k]) => `${b}\t${k}`).join('\n'));
