/**
 * What a browser downloads for `sparsecast/infer`, measured, and the README's Edge inference table held to it.
 * Builds the inference bundles (scripts/build-infer.mjs, into a temp dir: the files `npm run build` writes to
 * dist/) and gzips (level 9) exactly the files each path fetches:
 *   - edge: dist/infer-edge.js plus build/kernels-infer.wasm, compiled by the caller and passed as `wasmModule`
 *     (Cloudflare Workers; any page that serves the .wasm). `sparsecast/infer` with a `wasmModule` fetches
 *     dist/infer.js plus the same .wasm.
 *   - default: dist/infer.js plus dist/infer-wasm.js, the chunk it imports on the first load when no
 *     `wasmModule` is passed (the same kernels embedded as base64). dist/infer-js.js is fetched only for
 *     `{ backend: 'js' }`, so it is on neither path.
 * Budgets: 60 kB for the edge path (issue 7; 59.98 kB since the decoders of issue 14's encodings). The default path measures 70.8 kB: base64 text gzips to more than
 * the binary it encodes (29.2 vs 18.1 kB), which is the price of not serving a .wasm; its budget, 72 kB, sits
 * just above so that growth shows up here rather than in a user's network panel.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeSection, withinTolerance } from './shared/readme.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const EDGE_BUDGET = 60_000;
const DEFAULT_BUDGET = 72_000;

const gz = (path: string) => gzipSync(readFileSync(path), { level: 9 }).length;

/** One row of the README's table: the files with their stated kB, the stated total and budget. */
interface Row {
  files: Array<[string, number]>;
  total: number;
  budget: number;
}

function readmeRow(section: string, path: 'edge' | 'default'): Row {
  const line = section.split('\n').find((l) => l.startsWith(`| ${path}:`));
  if (!line) throw new Error(`README Edge inference: no table row for the ${path} path`);
  const cells = line.split('|').map((c) => c.trim());
  const files = [...cells[2]!.matchAll(/((?:dist|build)\/[\w.-]+) ([\d.]+) kB/g)].map((m) => [m[1]!, Number(m[2])] as [string, number]);
  const t = cells[3]!.match(/^([\d.]+) kB \(budget ([\d.]+) kB\)$/);
  if (!t) throw new Error(`README Edge inference: the ${path} row's total reads "${cells[3]}"`);
  return { files, total: Number(t[1]) * 1000, budget: Number(t[2]) * 1000 };
}

describe('sparsecast/infer: bytes a browser downloads', () => {
  let work = '';
  const size: Record<string, number> = {};

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sparsecast-infer-size-'));
    await new Promise<void>((resolve, reject) => {
      execFile(process.execPath, [join(root, 'scripts', 'build-infer.mjs'), work], { cwd: root, timeout: 120_000 }, (err, _out, stderr) => (err ? reject(new Error(`build-infer failed: ${err.message}\n${stderr}`)) : resolve()));
    });
    for (const f of ['infer.js', 'infer-edge.js', 'infer-wasm.js', 'infer-js.js']) size[`dist/${f}`] = gz(join(work, f));
    size['build/kernels-infer.wasm'] = gz(join(root, 'build', 'kernels-infer.wasm'));
  }, 150_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const edge = () => size['dist/infer-edge.js']! + size['build/kernels-infer.wasm']!;
  const lazy = () => size['dist/infer.js']! + size['dist/infer-wasm.js']!;

  it('loads the embedded kernels and the JS kernels as separate chunks, on demand', () => {
    const entry = readFileSync(join(work, 'infer.js'), 'utf8');
    expect(entry).toMatch(/import\("\.\/infer-wasm\.js"\)/);
    expect(entry).toMatch(/import\("\.\/infer-js\.js"\)/);
    // The chunk is self-contained: fetching it fetches nothing more.
    expect(readFileSync(join(work, 'infer-wasm.js'), 'utf8')).not.toMatch(/\bimport\b|\bfrom"/);
    expect(readFileSync(join(work, 'infer-edge.js'), 'utf8')).not.toMatch(/infer-wasm\.js/);
  });

  it('keeps the edge path (entry + wasm module) within 60 kB gzip', () => {
    console.log(`edge: infer-edge.js ${size['dist/infer-edge.js']} + kernels-infer.wasm ${size['build/kernels-infer.wasm']} = ${edge()} B gzip; infer.js + wasm ${size['dist/infer.js']! + size['build/kernels-infer.wasm']!} B`);
    expect(edge()).toBeLessThanOrEqual(EDGE_BUDGET);
    expect(size['dist/infer.js']! + size['build/kernels-infer.wasm']!).toBeLessThanOrEqual(EDGE_BUDGET);
  });

  it('keeps the default path (entry + embedded-kernels chunk) within 72 kB gzip', () => {
    console.log(`default: infer.js ${size['dist/infer.js']} + infer-wasm.js ${size['dist/infer-wasm.js']} = ${lazy()} B gzip (on demand for backend 'js': infer-js.js ${size['dist/infer-js.js']} B)`);
    expect(lazy()).toBeLessThanOrEqual(DEFAULT_BUDGET);
  });

  it("the README's table states these sizes and budgets", () => {
    const section = readmeSection('Edge inference');
    const rows = { edge: readmeRow(section, 'edge'), default: readmeRow(section, 'default') };
    expect(rows.edge.files.map(([f]) => f)).toEqual(['dist/infer-edge.js', 'build/kernels-infer.wasm']);
    expect(rows.default.files.map(([f]) => f)).toEqual(['dist/infer.js', 'dist/infer-wasm.js']);
    for (const row of Object.values(rows)) {
      for (const [file, kB] of row.files) expect(withinTolerance(kB * 1000, size[file]!), `${file}: README ${kB} kB, measured ${size[file]} B`).toBe(true);
    }
    expect(withinTolerance(rows.edge.total, edge()), `edge total: README ${rows.edge.total} B, measured ${edge()} B`).toBe(true);
    expect(withinTolerance(rows.default.total, lazy()), `default total: README ${rows.default.total} B, measured ${lazy()} B`).toBe(true);
    expect(rows.edge.budget).toBe(EDGE_BUDGET);
    expect(rows.default.budget).toBe(DEFAULT_BUDGET);
    // "… 10.9 kB more to download": the default path's extra over the edge path.
    const more = section.match(/([\d.]+) kB more to download/);
    expect(more, 'the default path\'s extra cost').not.toBeNull();
    expect(Math.abs(Number(more![1]) * 1000 - (lazy() - edge()))).toBeLessThanOrEqual(0.02 * edge());
  });
});
