// README: `npm run conformance` prints a table of the worst error per kernel and backend; `-- --json --backend
// …|all` one JSON line per kernel and backend, then a summary line, exit code 1 on any failure (`all` is the CPU
// backends). The script run as a user runs it (tsx, a child process), its output read back.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { relaxedSimdSupported } from '../src/backend/wasm/backend.ts';

const conformance = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'scripts/conformance.ts', ...args], { encoding: 'utf8', timeout: 300_000 });

describe('npm run conformance', () => {
  it('--json --backend all: a line per kernel and CPU backend, then the summary; exit 0 when all pass', () => {
    const r = conformance('--json', '--backend', 'all');
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = lines.pop()!;
    expect(summary).toMatchObject({ summary: true, failed: [] });
    // The relaxed-SIMD build where this runtime accepts it (Node 20 needs a flag; Node 22 does not).
    const cpu = ['js', 'wasm', ...(relaxedSimdSupported() ? ['wasm-relaxed'] : [])];
    expect([...(summary.backends as string[])].sort()).toEqual(cpu);
    // Every kernel once per backend, the same kernels on each ('kernels' in the summary counts the rows).
    const kernelsOf = (backend: string) => lines.filter((l) => l.backend === backend).map((l) => String(l.kernel)).sort();
    expect(kernelsOf('js').length).toBeGreaterThan(50);
    expect(new Set(kernelsOf('js')).size).toBe(kernelsOf('js').length);
    for (const backend of cpu) expect(kernelsOf(backend), backend).toEqual(kernelsOf('js'));
    expect(lines).toHaveLength(Number(summary.kernels));
    expect(summary.ok).toBe(summary.kernels);
    for (const l of lines) {
      expect(l.ok, `${l.kernel} on ${l.backend}`).toBe(true);
      expect(Number(l.maxRelErr)).toBeLessThanOrEqual(Number(l.limit));
      expect(Number(l.cases)).toBeGreaterThan(0);
    }
  }, 300_000);

  it('the table: a row per kernel with its worst error and limit, and the count of rows ok', () => {
    const r = conformance('--backend', 'js');
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout.split('\n');
    expect(out[0]).toMatch(/^kernel\s+backend\s+cases\s+maxRelErr\s+limit\s+ok\s+note$/);
    expect(out.find((l) => /^matmul\s+js\s+\d+\s+\S+\s+\S+\s+ok/.test(l))).toBeDefined();
    const total = /(\d+)\/(\d+) rows ok over backends js/.exec(r.stdout);
    expect(total).not.toBe(null);
    expect(total![1]).toBe(total![2]);
  }, 300_000);

  it('an unknown backend is refused with the usage, exit 2', () => {
    const r = conformance('--backend', 'cuda');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/conformance: unknown backend 'cuda'\nusage: npm run conformance -- \[--json\] \[--backend wasm\|js\|wasm-relaxed\|webgpu\|all\]/);
  });
});
