// A run killed mid-epoch and resumed from its last checkpoint ends with exactly the parameters (bit for bit)
// of the same run left alone; a Ctrl-C style stop saves a loadable checkpoint; a broken write never replaces
// a good checkpoint.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint } from '../src/train/checkpoint.ts';

const ARGS = [
  '--import', 'tsx', 'scripts/dev-cli.ts', 'train', '--data', 'data/ETTh1.csv', '--model', 'Transformer',
  '--backend', 'wasm', '--seq_len', '48', '--label_len', '24', '--pred_len', '24', '--d_model', '16', '--n_heads', '2',
  '--e_layers', '1', '--d_layers', '1', '--d_ff', '32', '--train_epochs', '2', '--max_train_batches', '8',
  '--checkpoint_every', '2', '--seed', '7',
];

function params(path: string): Map<string, Uint8Array> {
  const ck = loadCheckpoint(path);
  const out = new Map<string, Uint8Array>();
  for (const [k, t] of ck.tensors) if (k.startsWith('model.') || k.startsWith('adam.')) out.set(k, new Uint8Array(t.data.buffer));
  return out;
}

function stepOf(path: string): number {
  return (loadCheckpoint(path).state as { step: number }).step;
}

describe('resume', () => {
  it('kill -9 mid-epoch, then --resume, gives bit-identical final parameters', async () => {
    const full = mkdtempSync(join(tmpdir(), 'sc-full-'));
    const a = spawnSync(process.execPath, [...ARGS, '--out', full], { encoding: 'utf8' });
    expect(a.status, a.stderr).toBe(0);
    const resultA = JSON.parse(a.stdout.trim().split('\n').pop()!);

    const cut = mkdtempSync(join(tmpdir(), 'sc-cut-'));
    const ck = join(cut, 'checkpoint.safetensors');
    const child = spawn(process.execPath, [...ARGS, '--out', cut], { stdio: 'ignore' });
    // Kill as soon as a mid-epoch checkpoint (step 4 of the first epoch's 8) is on disk.
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        try {
          if (existsSync(ck) && statSync(ck).size > 0 && stepOf(ck) >= 4) {
            child.kill('SIGKILL');
            clearInterval(timer);
            resolve();
          }
        } catch {
          // Mid-rename reads may fail; the next poll sees the finished file.
        }
      }, 20);
      child.on('exit', () => {
        clearInterval(timer);
        reject(new Error('the run finished before it could be killed'));
      });
    });
    const killedAt = stepOf(ck);
    expect(killedAt).toBeGreaterThanOrEqual(4);
    expect(killedAt).toBeLessThan(16);
    const b = spawnSync(process.execPath, [...ARGS, '--out', cut, '--resume'], { encoding: 'utf8' });
    expect(b.status, b.stderr).toBe(0);
    const resultB = JSON.parse(b.stdout.trim().split('\n').pop()!);
    expect(resultB.mse).toBe(resultA.mse);
    expect(resultB.best_val).toBe(resultA.best_val);
    const pa = params(join(full, 'checkpoint.safetensors'));
    const pb = params(ck);
    expect([...pb.keys()]).toEqual([...pa.keys()]);
    for (const [k, v] of pa) expect(Buffer.compare(Buffer.from(v), Buffer.from(pb.get(k)!)), k).toBe(0);
    // The logs agree on everything but wall-clock seconds.
    const losses = (dir: string) =>
      readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => {
        const { seconds: _s, ...rest } = JSON.parse(l) as Record<string, number>;
        return rest;
      });
    expect(losses(cut)).toEqual(losses(full));
    expect(losses(full)).toHaveLength(2);
  }, 600_000);
});
