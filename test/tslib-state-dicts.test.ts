// What our model.safetensors holds for each model — every key, shape and dtype, masks left out — against the
// committed list test/fixtures/tslib-state-dicts.json, so that renaming a key (which would break loading the
// file into Time-Series-Library's model with load_state_dict(strict=True)) is a deliberate, reviewed change;
// and, for the models where a fixture made from real TSLib holds the keys, that the list is TSLib's.
// Regenerate the committed list after a deliberate change: UPDATE_TSLIB_STATE_DICTS=1 npx vitest run test/tslib-state-dicts.test.ts
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import '../src/tensor/tensor.ts';
import { engine } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import { createJsBackend } from '../src/backend/js/backend.ts';
import { createModel, defaultConfig, modelNames, PRESETS, type ForecastConfig } from '../src/models/index.ts';
import { RunForecaster } from '../src/run/run-forecaster.ts';
import { runFiles } from '../src/run/saved-run.ts';
import { readSafetensors } from '../src/io/safetensors.ts';

engine.registerBackend(createJsBackend());
engine.useBackend('js');

const FIXTURE = 'test/fixtures/tslib-state-dicts.json';
type Entry = [key: string, shape: number[], dtype: string];

/** The config of test/transformer-tslib.test.ts (the TSLib fixture's), for all seven models. */
const TEST_CFG = defaultConfig(3, { seqLen: 12, labelLen: 6, predLen: 6, dModel: 8, nHeads: 2, eLayers: 2, dLayers: 1, dFf: 16, dropout: 0 });
const { dModel, nHeads, eLayers, dLayers, dFf, dropout } = PRESETS.small;
/** The CLI's default run: --preset small on 7 channels (ETTh1), seq/label/pred 96/48/96. */
const SMALL_CFG = defaultConfig(7, { seqLen: 96, labelLen: 48, predLen: 96, dModel, nHeads, eLayers, dLayers, dFf, dropout });

/** model.safetensors of a (masked) run of `model` as `runFiles` writes it, minus the masks. */
async function entries(model: string, cfg: ForecastConfig): Promise<Entry[]> {
  const m = createModel(model, new Rng(5), cfg);
  // A mask on the first rank-2 weight, so the test sees masks really are left out of the list.
  const first = m.namedParameters().find(([, p]) => p.rank >= 2)!;
  const mask = new Uint8Array(first[1].size).fill(1);
  mask[0] = 0;
  const f = new RunForecaster({ model: model as never, cfg, seed: 5, features: 'M', target: 'OT', scaler: { mean: [], std: [], columns: [] } }, m, new Map([[first[0], mask]]), { sparseExecution: false });
  try {
    const file = readSafetensors((await runFiles(f)).weights);
    expect(file.tensors.has(`mask.${first[0]}`)).toBe(true);
    return [...file.tensors].filter(([k]) => !k.startsWith('mask.')).map(([k, t]) => [k, t.shape, t.dtype]);
  } finally {
    f.dispose();
  }
}

async function current(): Promise<Record<string, Entry[]>> {
  const out: Record<string, Entry[]> = {};
  for (const name of modelNames()) out[`${name} test`] = await entries(name, TEST_CFG);
  out['Transformer small'] = await entries('Transformer', SMALL_CFG);
  return out;
}

describe('model.safetensors keys, shapes and dtypes (TSLib state-dict layout)', () => {
  it('each model writes exactly the committed list', async () => {
    const now = await current();
    if (process.env.UPDATE_TSLIB_STATE_DICTS) {
      const about = 'Keys, shapes and dtypes of sparsecast\'s model.safetensors without its mask.* tensors, per model: "<Model> test" at test/transformer-tslib.test.ts\'s config (3 channels, seq 12, label 6, pred 6, d_model 8, 2 heads, e_layers 2, d_layers 1, d_ff 16), "Transformer small" at --preset small on 7 channels (seq 96, label 48, pred 96). Every tensor is F32, num_batches_tracked (int64 in PyTorch) too: load_state_dict copies it into the int64 buffer. Made by test/tslib-state-dicts.test.ts (UPDATE_TSLIB_STATE_DICTS=1).';
      const lines = Object.entries(now).map(([k, list]) => `  ${JSON.stringify(k)}: [\n${list.map((e) => `    ${JSON.stringify(e)}`).join(',\n')}\n  ]`);
      writeFileSync(FIXTURE, `{\n  "about": ${JSON.stringify(about)},\n${lines.join(',\n')}\n}\n`);
    }
    const committed = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, Entry[] | string>;
    const { about: _, ...lists } = committed;
    expect(now).toEqual(lists);
  });

  it("the Transformer's keys are real TSLib's, in its order (test/fixtures/transformer-tslib.json)", () => {
    const committed = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, Entry[]>;
    const tslib = JSON.parse(readFileSync('test/fixtures/transformer-tslib.json', 'utf8')) as { stateDictKeys: string[] };
    expect(committed['Transformer test']!.map(([k]) => k)).toEqual(tslib.stateDictKeys);
    // TSLib registers the sinusoidal table as a persistent buffer: it is in the state dict, [1, max_len 5000, d_model].
    expect(committed['Transformer test']!.find(([k]) => k === 'enc_embedding.position_embedding.pe')![1]).toEqual([1, 5000, 8]);
  });

  it('every tensor is F32 and no mask is listed', () => {
    const committed = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, Entry[] | string>;
    for (const [name, list] of Object.entries(committed)) {
      if (name === 'about') continue;
      for (const [k, , dtype] of list as Entry[]) {
        expect(dtype, `${name} ${k}`).toBe('F32');
        expect(k.startsWith('mask.'), `${name} ${k}`).toBe(false);
      }
    }
  });
});
