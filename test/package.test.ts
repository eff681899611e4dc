// What a user installs: an MIT LICENSE beside the package, the `webgpu` package (Dawn, ~132 MB of native
// binaries) only as an optional peer that a wasm or inference user never downloads, no source maps in the
// tarball, and type declarations that do not carry the wasm kernels as a multi-kilobyte string literal type.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

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
});
