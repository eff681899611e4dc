// A line of the PALS reference's scripts (scripts_sparse/*.sh of its Time-Series-Library fork) runs as
// `sparsecast train` as written: its names for the sparse settings (--loss_freedom_factor for λ,
// --prune_rate_factor for γ, --update-frequency, --init-density, --final-density, --prune-rate, --sparse-init),
// its values (--method PALS / GraNet, --sparse-init ERK, --model ns_Transformer) and its --sparse switch, read as
// the reference reads them. Each was an unknown flag or value before.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TRAIN } from '../src/cli/commands.ts';
import { runCliAsync } from './shared/cli.ts';
import { parseInRepo } from './shared/parse-in-repo.ts';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

/**
 * The PALS run of the reference's scripts_sparse/ILI.sh at pred_len 24 (its projector 32), flag for flag, with
 * --root_path / --data_path pointed at a 7-column file of this repo (ETTh1, for national_illness).
 */
const REFERENCE_LINE = ['--is_training', '1', '--root_path', './data/', '--data_path', 'ETTh1.csv', '--model_id', 'ili_36_24', '--model', 'ns_Transformer',
  '--data', 'custom', '--features', 'M', '--seq_len', '36', '--label_len', '18', '--pred_len', '24', '--e_layers', '2', '--d_layers', '1', '--factor', '3',
  '--enc_in', '7', '--dec_in', '7', '--c_out', '7', '--des', 'Exp_h32_l2', '--p_hidden_dims', '32', '32', '--p_hidden_layers', '2', '--seed', '2020',
  '--sparse', '--method', 'PALS', '--update-frequency', '5', '--init-density', '1', '--sparse-init', 'ERK'];

const parse = (argv: string[]) => parseInRepo(TRAIN, argv);

describe('the PALS reference\'s spellings', () => {
  it('its ILI PALS line: method, ΔT, starting density, ERK, NSTransformer, the custom split, the projector', () => {
    const { flags, warnings } = parse(REFERENCE_LINE);
    expect(Object.fromEntries(['method', 'update_freq', 'init_density', 'density_init', 'model', 'data_kind', 'p_hidden_dims', 'des'].map((k) => [k, flags.get(k)])))
      .toEqual({ method: 'pals', update_freq: '5', init_density: '1', density_init: 'erk', model: 'NSTransformer', data_kind: 'custom', p_hidden_dims: '32,32', des: 'Exp_h32_l2' });
    // The reference's default model is the full-size one: said, as for a TSLib line.
    expect(warnings.some((w) => w.includes('this is a TSLib run.py line'))).toBe(true);
  });

  it('λ, γ, ζ and the final density under the reference\'s names; its mse loss', () => {
    const { flags } = parse(['--data', 'data/ETTh1.csv', '--method', 'pals', '--loss_freedom_factor', '1.2', '--prune_rate_factor', '1.05', '--prune-rate', '0.3', '--loss', 'mse']);
    expect([flags.get('lambda'), flags.get('gamma'), flags.get('zeta')]).toEqual(['1.2', '1.05', '0.3']);
    expect(parse(['--data', 'data/ETTh1.csv', '--sparse', '--method', 'GraNet', '--final-density', '0.2', '--prune', 'magnitude', '--redistribution', 'none']).flags.get('final_density')).toBe('0.2');
    // The reference's range is this CLI's: a λ of 1 is refused under either name.
    expect(() => parse(['--data', 'data/ETTh1.csv', '--method', 'pals', '--loss_freedom_factor', '1'])).toThrow(/--lambda must be greater than 1, got 1/);
  });

  it('--sparse as the reference reads it: a reference-spelled method trains dense without it, --sparse alone is GraNet', () => {
    expect(() => parse(['--data', 'data/ETTh1.csv', '--method', 'PALS'])).toThrow(/^sparsecast train: --method PALS without --sparse: the PALS reference trains dense then; add --sparse for pals, or give --method dense$/);
    expect(() => parse(['--data', 'data/ETTh1.csv', '--method', 'pals'])).not.toThrow(); // this CLI's own spelling needs no --sparse
    expect(() => parse(['--data', 'data/ETTh1.csv', '--sparse', '--method', 'dense'])).toThrow(/--sparse with --method dense: give one/);
    const alone = parse(['--data', 'data/ETTh1.csv', '--sparse']);
    expect(alone.flags.get('method')).toBe('granet');
    expect(alone.warnings).toEqual([expect.stringContaining("--sparse without --method trains the reference's default method, GraNet")]);
    expect(() => parse(['--data', 'data/ETTh1.csv', '--sparse', '--method', 'pals', '--prune', 'SET'])).toThrow(/--prune SET: PALS and GraNet prune by magnitude here/);
    expect(() => parse(['--data', 'data/ETTh1.csv', '--sparse', '--method', 'pals', '--redistribution', 'momentum'])).toThrow(/--redistribution momentum: PALS and GraNet redistribute nothing here/);
  });

  it('the real binary trains the reference line (sizes cut down): PALS, deciding every 5 steps', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sc-ref-line-')), 'run');
    const r = await runCliAsync(['train', ...REFERENCE_LINE, '--d_model', '16', '--n_heads', '2', '--d_ff', '32', '--train_epochs', '2', '--max_train_batches', '12', '--val_batches', '2', '--out', out], { cwd: root });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ model: 'NSTransformer', method: 'pals', model_id: 'ili_36_24', des: 'Exp_h32_l2' });
    const steps = readFileSync(join(out, 'sparsity.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step);
    expect(steps.slice(0, 2)).toEqual([5, 10]);
  }, 120_000);
});
