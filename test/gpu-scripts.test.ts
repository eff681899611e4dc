/**
 * The GPU-machine scripts (scripts/gpu/), without a GPU: they parse, the budget check refuses a carried folder
 * that would take what travels over the limit (and accepts one that fits exactly), and run.sh refuses bad
 * arguments and a missing carried folder before touching anything. The real run is scripts/gpu/run.sh on a
 * device machine; its dry run on lavapipe is described in README.md ("On a GPU machine").
 */
import { describe, expect, it, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const bash = (args: string[], env: Record<string, string> = {}) =>
  spawnSync('bash', args, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env } });

// A fake carried folder inside runs/ (git-ignored, as a carried folder must be).
const fake = join('runs', `.gpu-budget-test-${process.pid}`);
const out = mkdtempSync(join(tmpdir(), 'sparsecast-gpu-out-'));
afterAll(() => {
  rmSync(join(root, fake), { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
});

describe('scripts/gpu', () => {
  it('parse (bash -n)', () => {
    for (const f of ['prepare.sh', 'run.sh', 'budget.sh']) {
      const r = bash(['-n', `scripts/gpu/${f}`]);
      expect(r.status, `${f}: ${r.stderr}`).toBe(0);
    }
  });

  it('budget.sh fits at the exact total and refuses one byte less', () => {
    mkdirSync(join(root, fake), { recursive: true });
    writeFileSync(join(root, fake, 'payload.bin'), Buffer.alloc(100_000, 1));
    const big = bash(['scripts/gpu/budget.sh', fake], { GPU_BUDGET_BYTES: String(2 ** 40) });
    expect(big.status, big.stderr).toBe(0);
    expect(big.stdout).toMatch(/carried .*\s100000 bytes/);
    const total = Number(/budget: total\s+(\d+) bytes/.exec(big.stdout)![1]);
    expect(total).toBeGreaterThan(100_000);

    const exact = bash(['scripts/gpu/budget.sh', fake], { GPU_BUDGET_BYTES: String(total) });
    expect(exact.status, exact.stderr).toBe(0);
    const over = bash(['scripts/gpu/budget.sh', fake], { GPU_BUDGET_BYTES: String(total - 1) });
    expect(over.status).toBe(1);
    expect(over.stderr).toContain('OVER by 1 bytes');
  });

  it('budget.sh refuses a folder git does not ignore, a missing one, and a bad limit', () => {
    const notIgnored = bash(['scripts/gpu/budget.sh', 'scripts']);
    expect(notIgnored.status).toBe(2);
    expect(notIgnored.stderr).toContain('is not ignored by git');
    const missing = bash(['scripts/gpu/budget.sh', 'runs/.no-such-folder']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('does not exist');
    const bad = bash(['scripts/gpu/budget.sh', fake], { GPU_BUDGET_BYTES: '64M' });
    expect(bad.status).toBe(2);
  });

  it('run.sh refuses unknown arguments and steps, and names a missing carried piece', () => {
    const unknown = bash(['scripts/gpu/run.sh', '--fast'], { OUT: out });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("unknown argument '--fast'");
    const step = bash(['scripts/gpu/run.sh', '--only', 'conformance,attention'], { OUT: out });
    expect(step.status).toBe(2);
    expect(step.stderr).toContain("unknown step 'attention'");
    const bare = bash(['scripts/gpu/run.sh', '--dry-run'], { OUT: out, GPU_CARRIED: 'runs/.no-such-folder' });
    expect(bare.status).toBe(2);
    expect(bare.stderr).toContain('runs/.no-such-folder/node.xz is missing');
    expect(bare.stderr).toContain('scripts/gpu/prepare.sh');
  });
});
