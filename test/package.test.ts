// What a user installs: an MIT LICENSE beside the package, the `webgpu` package (Dawn, ~132 MB of native
// binaries) only as an optional peer that a wasm or inference user never downloads, no source maps in the
// tarball, and type declarations that do not carry the wasm kernels as a multi-kilobyte string literal type.
// The tarball's size, measured by npm itself, against a budget and the README's statement of it.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readmeSection, withinTolerance } from './shared/readme.ts';

/**
 * The packed tarball measures 1.54 MB, three quarters of it the three bundles (CLI, library for Node, library
 * for browsers: ~1.2–1.3 MB each before compression, whitespace-minified, each embedding the three wasm
 * builds as base64; before the bundles were minified, the structured-sparsity kernels had taken it to 1.61 MB). 1.6 MB leaves room for the code still to come (a command
 * or two) and catches what should not ship: the source maps (6.5 MB before compression), or a second copy of the kernels.
 */
const PACKED_BUDGET = 1_600_000;

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as Record<string, Record<string, unknown> | unknown>;

interface Packed { size: number; unpackedSize: number; files: Array<{ path: string }> }
let packedOnce: Packed | undefined;

/** `npm pack --dry-run`'s manifest of the tarball (once per file: it takes a few seconds). */
function pack(): Packed {
  if (packedOnce) return packedOnce;
  if (!existsSync('dist/index.js')) throw new Error('dist/ is missing: run npm run build first');
  // --ignore-scripts: measure what is built, without running lifecycle scripts; npm prints the manifest as JSON.
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  [packedOnce] = JSON.parse(out) as Packed[];
  return packedOnce!;
}

/** Every file path the exports map names, under any condition. */
function exportTargets(e: unknown): string[] {
  if (typeof e === 'string') return [e];
  return e && typeof e === 'object' ? Object.values(e).flatMap(exportTargets) : [];
}

describe('package', () => {
  it('ships an MIT LICENSE that matches package.json', () => {
    expect(pkg.license).toBe('MIT');
    expect(readFileSync('LICENSE', 'utf8')).toMatch(/^MIT License/);
    expect(pkg.files).toContain('LICENSE');
    expect(pkg.keywords).toEqual(expect.arrayContaining(['forecasting', 'webgpu']));
    expect(typeof pkg.author).toBe('string');
  });

  it('webgpu is an optional peer, never a dependency a user downloads', () => {
    const deps = { ...(pkg.dependencies as object | undefined), ...(pkg.optionalDependencies as object | undefined) };
    expect(Object.keys(deps)).not.toContain('webgpu');
    expect((pkg.peerDependencies as Record<string, string>).webgpu).toBeDefined();
    expect((pkg.peerDependenciesMeta as Record<string, { optional: boolean }>).webgpu?.optional).toBe(true);
  });

  it('leaves source maps out of the tarball', () => {
    expect(pkg.files).toContain('!dist/**/*.map');
  });

  it('declares the embedded wasm as a string, not as a literal type', () => {
    const dir = 'dist/types/backend/wasm/generated';
    if (!existsSync(dir)) throw new Error(`${dir} is missing: run npm run build first`);
    for (const f of readdirSync(dir)) {
      const text = readFileSync(join(dir, f), 'utf8');
      expect(text.length, f).toBeLessThan(1000);
      expect(text, f).toMatch(/WASM_BASE64: string;/);
    }
  });

  it('packs to a tarball within budget, of the size the README states', () => {
    const packed = pack();
    console.log(`npm pack: ${packed!.size} B packed, ${packed!.unpackedSize} B unpacked, ${packed!.files.length} files`);
    expect(packed!.files.some((f) => f.path.endsWith('.map'))).toBe(false);
    expect(packed!.size).toBeLessThanOrEqual(PACKED_BUDGET);
    const m = readmeSection('Library').match(/is ([\d.]+) MB packed, ([\d.]+) MB unpacked; .* budget of ([\d.]+) MB/s);
    expect(m, 'the README states the packed size').not.toBeNull();
    expect(withinTolerance(Number(m![1]) * 1e6, packed!.size), `packed: README ${m![1]} MB, measured ${packed!.size} B`).toBe(true);
    expect(withinTolerance(Number(m![2]) * 1e6, packed!.unpackedSize), `unpacked: README ${m![2]} MB, measured ${packed!.unpackedSize} B`).toBe(true);
    expect(Number(m![3]) * 1e6).toBe(PACKED_BUDGET);
  });

  it("ships what the README lists (dist's bundles and types, build's wasm kernels, bin, shaders, LICENSE, README) and nothing else", () => {
    const files = new Set(pack().files.map((f) => f.path));
    const listed = readmeSection('Library').match(/The published tarball \(`npm pack`: ([^)]*)\)/);
    expect(listed?.[1]?.replace(/\s+/g, ' ')).toBe("dist without source maps, build's wasm kernels, bin, shaders, LICENSE, README");
    for (const f of ['LICENSE', 'README.md', 'package.json']) expect(files.has(f), f).toBe(true);
    // dist: the library for Node and for browsers, the CLI, the inference entries and their on-demand kernels, the types.
    const bundles = ['dist/index.js', 'dist/index.browser.js', 'dist/cli.js', 'dist/infer.js', 'dist/infer-edge.js', 'dist/infer-wasm.js', 'dist/infer-js.js'];
    for (const f of bundles) expect(files.has(f), f).toBe(true);
    expect(readdirSync('dist').filter((f) => f.endsWith('.js')).map((f) => `dist/${f}`).sort()).toEqual([...bundles].sort());
    expect(files.has('dist/types/index.d.ts')).toBe(true);
    // build: every wasm kernel module (the inference-only one that sparsecast/infer-kernels.wasm names among them).
    const wasm = readdirSync('build').filter((f) => f.endsWith('.wasm'));
    expect(wasm).toEqual(expect.arrayContaining(['kernels.wasm', 'kernels-infer.wasm', 'kernels-relaxed.wasm', 'kernels-threads.wasm']));
    for (const f of wasm) expect(files.has(`build/${f}`), f).toBe(true);
    // bin and every WGSL shader.
    expect(files.has((pkg.bin as Record<string, string>).sparsecast!.replace(/^\.\//, ''))).toBe(true);
    const shaders = readdirSync('shaders');
    expect(shaders.length).toBeGreaterThan(0);
    for (const f of shaders) expect(files.has(`shaders/${f}`), f).toBe(true);
    // Every file package.json points a user at: main, types, each exports target under every condition.
    const targets = [pkg.main, pkg.types, ...exportTargets(pkg.exports)] as string[];
    expect(targets.length).toBeGreaterThanOrEqual(12);
    for (const t of targets) expect(files.has(t.replace(/^\.\//, '')), t).toBe(true);
    // Nothing else: no sources, tests, data, scripts or maps.
    const stray = [...files].filter((f) => !/^(dist|build|bin|shaders)\//.test(f) && !['LICENSE', 'README.md', 'package.json'].includes(f));
    expect(stray).toEqual([]);
    expect([...files].filter((f) => f.endsWith('.map') || f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });
});
