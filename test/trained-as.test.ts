// The record of what a run's weights were trained as (src/run/trained-as.ts), compared with config.json on load:
// the rule on its own, beside the end-to-end edits in test/api.test.ts.
import { describe, expect, it } from 'vitest';
import { checkTrainedAs, trainedAsMetadata, TRAINED_AS_KEY } from '../src/run/trained-as.ts';
import { defaultConfig } from '../src/models/config.ts';
import type { RunInfo } from '../src/run/run-forecaster.ts';

const info = (): RunInfo => ({
  model: 'Transformer', seed: 7, features: 'M', target: 'OT', kind: 'ETTh',
  cfg: defaultConfig(2, { seqLen: 24, labelLen: 12, predLen: 12, dModel: 8, nHeads: 2 }),
  scaler: { mean: [1, 2], std: [3, 4], columns: ['a', 'OT'] },
});

describe('checkTrainedAs', () => {
  it('accepts the config the weights were trained as, and a file without the record', () => {
    const meta = trainedAsMetadata(info());
    expect(() => checkTrainedAs(info(), meta, 'config.json')).not.toThrow();
    expect(() => checkTrainedAs({ ...info(), seed: 8 }, {}, 'config.json')).not.toThrow();
  });

  it('names each edited field, up to four', () => {
    const edited = info();
    edited.cfg.predLen = 24;
    edited.seed = 8;
    edited.scaler.std[1] = 5;
    expect(() => checkTrainedAs(edited, trainedAsMetadata(info()), 'run/config.json')).toThrow(
      'run/config.json does not describe the model its weights were trained as (was it edited?): seed is 8 but the weights were trained with 7; '
      + 'cfg.predLen is 24 but the weights were trained with 12; scaler.std.1 is 5 but the weights were trained with 4',
    );
  });

  it('names a list of another length (a column added to the scaler)', () => {
    const edited = info();
    edited.scaler = { mean: [1, 2, 0], std: [3, 4, 1], columns: ['a', 'OT', 'b'] };
    expect(() => checkTrainedAs(edited, trainedAsMetadata(info()), 'config.json')).toThrow(/scaler\.mean has 3 entries but the weights were trained with 2/);
  });

  it('ignores a cfg field the record does not have (a later version may add one, with its default)', () => {
    const record = JSON.parse(trainedAsMetadata(info())[TRAINED_AS_KEY]!) as { cfg: Record<string, unknown> };
    delete record.cfg.pHiddenLayers;
    expect(() => checkTrainedAs(info(), { [TRAINED_AS_KEY]: JSON.stringify(record) }, 'config.json')).not.toThrow();
  });

  it('refuses a record that is not JSON, naming the key', () => {
    expect(() => checkTrainedAs(info(), { [TRAINED_AS_KEY]: '{' }, 'config.json')).toThrow(`config.json: the weights' ${TRAINED_AS_KEY} record is not JSON`);
  });
});
