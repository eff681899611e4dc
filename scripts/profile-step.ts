import { engine } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import { profiledRun } from './profile-setup.ts';
import { profileBackend } from '../src/backend/profiler.ts';
import { fusedAttentionBackends } from '../src/nn/attention.ts';
// `--unfused`: FullAttention runs matmul/softmax/dropout/matmul instead of the fused attention kernel.
// `--ab N`: N rounds of one step each way, alternating (a loaded machine drifts less within a round), then
// the median step time of each; `--preset full` for the full-size model.
const args = process.argv.slice(2);
const flag = (f: string) => (args.includes(f) ? args[args.indexOf(f) + 1] : undefined);
const name = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--')) ?? 'Transformer';
if (args.includes('--unfused')) fusedAttentionBackends.clear();
const preset = (flag('--preset') ?? 'small') as 'small' | 'full';
const { ds, tr } = await profiledRun(name, preset);
const ids = ds.batches('train', 32, new Rng(5));
await tr.trainStep(ds.batch('train', ids[0]!));
if (flag('--ab')) {
  const rounds = Number(flag('--ab'));
  const times: Record<string, number[]> = { fused: [], unfused: [] };
  for (let r = 0; r < rounds; r++) {
    for (const mode of r % 2 ? ['fused', 'unfused'] : ['unfused', 'fused']) {
      if (mode === 'fused') fusedAttentionBackends.add(engine.backend.name);
      else fusedAttentionBackends.delete(engine.backend.name);
      const t = performance.now();
      await tr.trainStep(ds.batch('train', ids[1 + (r % (ids.length - 1))]!));
      times[mode]!.push(performance.now() - t);
    }
  }
  for (const [mode, ts] of Object.entries(times)) {
    ts.sort((a, b) => a - b);
    console.log(`${name} ${preset} ${mode}: median step ms ${ts[ts.length >> 1]!.toFixed(1)} (min ${ts[0]!.toFixed(1)}, ${rounds} steps)`);
  }
  process.exit(0);
}
const p = profileBackend(engine.backend);
const t0 = performance.now();
for (let i = 1; i <= 5; i++) await tr.trainStep(ds.batch('train', ids[i]!));
const ms = (performance.now() - t0) / 5;
p.restore();
console.log(p.report());
console.log('step ms', ms.toFixed(1), 'kernel ms/step', ([...p.stats.values()].reduce((a, s) => a + s.ms, 0) / 5).toFixed(1));
