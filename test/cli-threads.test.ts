// The README says `--threads N` gives results bit-identical to `--threads 1`: here a PALS training run, its
// sparsity decisions and masks included, is run by the real binary with one and with two wasm threads, and
// everything it computes is compared bit for bit (only the wall-clock figures may differ). The kernel-level
// checks are in wasm-threads.test.ts; this is the claim as a user meets it.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors } from '../src/io/safetensors.ts';
import { runCliAsync } from './shared/cli.ts';

const RUN = ['train', '--data', 'data/ETTh1.csv', '--seq_len', '48', '--label_len', '24', '--pred_len', '24', '--d_model', '32', '--n_heads', '2',
  '--d_ff', '64', '--train_epochs', '2', '--max_train_batches', '30', '--method', 'pals', '--update_freq', '5', '--val_batches', '2'];

/** The JSON line without its timings (wall clock: they differ between any two runs). */
function computed(stdout: string): Record<string, unknown> {
  const r = JSON.parse(stdout.trim()) as Record<string, unknown>;
  for (const k of Object.keys(r)) if (/_seconds$|_ms(_|$)/.test(k)) delete r[k];
  return r;
}

describe('--threads 2 trains the same bits as --threads 1', () => {
  it('a PALS run: the result, every mask decision, the model and the checkpoint tensors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-threads-'));
    const [one, two] = await Promise.all([1, 2].map((t) => runCliAsync([...RUN, '--threads', String(t), '--out', join(dir, `t${t}`)])));
    expect(one!.status, one!.stderr).toBe(0);
    expect(two!.status, two!.stderr).toBe(0);
    expect(two!.stderr).not.toMatch(/one thread/); // the pool started: no fallback to the calling thread
    const a = computed(one!.stdout);
    expect(a.sparsity).toBeGreaterThan(0.05); // the masks moved, so the sparse kernels ran
    expect(computed(two!.stdout)).toEqual(a);
    const file = (t: number, f: string) => readFileSync(join(dir, `t${t}`, f));
    expect(file(2, 'sparsity.jsonl').toString()).toBe(file(1, 'sparsity.jsonl').toString());
    expect(Buffer.compare(file(2, 'model.safetensors'), file(1, 'model.safetensors'))).toBe(0);
    // The checkpoint's header records the run's own settings (its thread count among them); its tensors match.
    const tensors = (t: number) => readSafetensors(file(t, 'checkpoint.safetensors')).tensors;
    const [c1, c2] = [tensors(1), tensors(2)];
    expect([...c2.keys()].sort()).toEqual([...c1.keys()].sort());
    const bytes = (d: ArrayBufferView) => Buffer.from(d.buffer, d.byteOffset, d.byteLength);
    for (const [k, v] of c1) expect(Buffer.compare(bytes(c2.get(k)!.data), bytes(v.data)), k).toBe(0);
  }, 240_000);
});
