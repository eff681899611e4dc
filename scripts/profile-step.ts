import { readFileSync } from 'node:fs';
import { initBackend } from '../src/cli/backends.ts';
import { engine } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import { parseCsvBytes } from '../src/data/csv.ts';
import { ForecastDataset } from '../src/data/forecast-dataset.ts';
import { createModel, defaultConfig, PRESETS } from '../src/models/index.ts';
import { Trainer } from '../src/train/trainer.ts';
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
await initBackend('wasm');
const table = parseCsvBytes(readFileSync('data/ETTh1.csv'), { file: 'data/ETTh1.csv' });
const ds = new ForecastDataset(table, { kind: 'ETTh', features: 'M', target: 'OT', seqLen: 96, labelLen: 48, predLen: 96, freq: 'h', file: 'ETTh1' });
const rng = new Rng(2020);
const model = createModel(name, rng, defaultConfig(7, PRESETS[preset]));
const tr = new Trainer(model, ds, rng, { epochs: 1, patience: 3, batchSize: 32, learningRate: 1e-4, lradj: 'type1', seed: 1 });
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
