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
    if (!existsSync('dist/index.js')) throw new Error('dist/ is missing: run npm run build first');
    // --ignore-scripts: measure what is built, without running lifecycle scripts; npm prints the manifest as JSON.
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const [packed] = JSON.parse(out) as Array<{ size: number; unpackedSize: number; files: Array<{ path: string }> }>;
    console.log(`npm pack: ${packed!.size} B packed, ${packed!.unpackedSize} B unpacked, ${packed!.files.length} files`);
    expect(packed!.files.some((f) => f.path.endsWith('.map'))).toBe(false);
    expect(packed!.size).toBeLessThanOrEqual(PACKED_BUDGET);
    const m = readmeSection('Library').match(/is ([\d.]+) MB packed, ([\d.]+) MB unpacked; .* budget of ([\d.]+) MB/s);
    expect(m, 'the README states the packed size').not.toBeNull();
    expect(withinTolerance(Number(m![1]) * 1e6, packed!.size), `packed: README ${m![1]} MB, measured ${packed!.size} B`).toBe(true);
    expect(withinTolerance(Number(m![2]) * 1e6, packed!.unpackedSize), `unpacked: README ${m![2]} MB, measured ${packed!.unpackedSize} B`).toBe(true);
    expect(Number(m![3]) * 1e6).toBe(PACKED_BUDGET);
  });
});
