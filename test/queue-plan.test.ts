// How a queued sweep names its runs, without Redis: axis lists expand like --grid keys (in the local sweep too),
// the config hash ignores flag order and the flags that do not change a result, and job ids are deterministic.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { axisListsAsGrid, runName } from '../src/cli/sweep-axes.ts';
import { parseCommandArgs } from '../src/cli/flags.ts';
import { SWEEP } from '../src/cli/commands.ts';
import { canonicalTrainArgv, checkSweepName, configHash, planRuns } from '../src/queue/run-plan.ts';
import { runTrainArgs } from '../src/cli/sweep-plan.ts';
import { selectRun } from '../src/cli/sweep-command.ts';
import { redisOptions, safeUrl } from '../src/queue/connection.ts';

const BASE = ['--data', 'data/ETTh1.csv', '--method', 'pals', '--d_model', '16', '--n_heads', '2'];
/** A sweep's fixed flags as the sweep hands them on (passThroughArgs): `--name=value` words. */
const PASS = ['--data=data/ETTh1.csv', '--method=pals', '--d_model=16', '--n_heads=2'];

describe('queue plan', () => {
  it('selects as the reference does: loss = lowest val loss; sparsity = highest sparsity, val loss breaking ties', () => {
    // best_val is the run's validation loss (the JSON line's key); neither the first row nor the extremes of the
    // other column are the answer, and the two top-sparsity rows come worse-loss first.
    const rows = [
      { name: 'a', result: { best_val: 0.6, sparsity: 0.8, mse: 0.1 } },
      { name: 'b', result: { best_val: 0.7, sparsity: 0.9, mse: 0.2 } },
      { name: 'c', result: { best_val: 0.5, sparsity: 0.9, mse: 0.3 } },
      { name: 'd', result: { best_val: 0.2, sparsity: 0.5, mse: 0.4 } },
      { name: 'e', result: { best_val: 0.3, sparsity: 0.1, mse: 0.05 } },
    ];
    const before = JSON.stringify(rows);
    expect(selectRun(rows, 'loss').name).toBe('d');
    expect(selectRun(rows, 'sparsity').name).toBe('c');
    // The tie-break holds whichever order the tied rows come in.
    expect(selectRun([rows[2]!, rows[1]!, rows[0]!], 'sparsity').name).toBe('c');
    // A strictly higher sparsity wins over a lower val loss.
    expect(selectRun([rows[3]!, rows[0]!], 'sparsity').name).toBe('a');
    expect(JSON.stringify(rows)).toBe(before); // the rows' order is the table's: not sorted in place
  });

  it('expands axis lists before the grid keys, in the order given', () => {
    const argv = ['--pred_len', '96,192', '--seed=2020,2021', '--model', 'Transformer', '--p_hidden_dims', '64,64', '--grid', 'lambda=1.05,1.1'];
    expect(axisListsAsGrid(argv)).toEqual(['--grid', 'pred_len=96,192', 'seed=2020,2021', '--model', 'Transformer', '--p_hidden_dims', '64,64', '--grid', 'lambda=1.05,1.1']);
    // Through the sweep's parser: the axis lists lead the grid, a single value and a non-axis list stay train flags.
    const args = parseCommandArgs(SWEEP, axisListsAsGrid([...BASE, ...argv]));
    expect(args.repeated?.get('grid')).toEqual(['pred_len=96,192', 'seed=2020,2021', 'lambda=1.05,1.1']);
    expect(args.flags.get('p_hidden_dims')).toBe('64,64');
    // Each listed value is checked with its flag's own rules, and a key listed twice is refused.
    expect(() => parseCommandArgs(SWEEP, axisListsAsGrid([...BASE, '--seed', '1,x', '--grid', 'lambda=1.1']))).toThrow(/--grid seed=1,x: .*--seed/);
    expect(() => parseCommandArgs(SWEEP, axisListsAsGrid([...BASE, '--seed', '1,2', '--grid', 'seed=3']))).toThrow(/--grid seed is given twice/);
  });

  it('reads --data naming one file with a comma in its name as that file, and a list of files as a list', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-axes-'));
    const odd = join(dir, 'sales,2024.csv');
    writeFileSync(odd, 'date,OT\n');
    expect(axisListsAsGrid(['--data', odd, '--seed', '1,2'])).toEqual(['--grid', 'seed=1,2', '--data', odd]);
    expect(axisListsAsGrid([`--data=${odd}`])).toEqual([`--data=${odd}`]);
    const args = parseCommandArgs(SWEEP, axisListsAsGrid(['--data', odd, '--method', 'pals', '--grid', 'lambda=1.05,1.1']));
    expect(args.flags.get('data')).toBe(odd);
    expect(args.repeated?.get('grid')).toEqual(['lambda=1.05,1.1']);
    // Not a file as a whole: a list, each value then checked as its own path by the sweep's parser.
    expect(axisListsAsGrid(['--data', `${odd},data/ETTh1.csv`])).toEqual(['--grid', `data=${odd},data/ETTh1.csv`]);
    expect(axisListsAsGrid(['--data', 'data/ETTh1.csv,data/ETTh2.csv'])).toEqual(['--grid', 'data=data/ETTh1.csv,data/ETTh2.csv']);
  });

  it('hashes the canonical train flags: order, --out, --threads and --resume do not matter', () => {
    const a = canonicalTrainArgv([...BASE, '--lambda', '1.1', '--no_epoch_test']);
    const b = canonicalTrainArgv(['--no_epoch_test', '--lambda', '1.1', '--threads', '4', '--out', 'x', '--resume', ...BASE]);
    expect(b).toEqual(a);
    expect(configHash(a)).toBe(configHash(b));
    expect(configHash(a)).toMatch(/^[0-9a-f]{16}$/);
    // The later of a repeated flag wins, as in `sparsecast train`.
    expect(canonicalTrainArgv([...BASE, '--lambda', '1.2', '--lambda', '1.1', '--no_epoch_test'])).toEqual(a);
    expect(configHash(canonicalTrainArgv([...BASE, '--lambda', '1.2']))).not.toBe(configHash(canonicalTrainArgv([...BASE, '--lambda', '1.1'])));
  });

  it('plans one run per combination with job ids from the sweep name and the config hash', () => {
    const grid = new Map([['seed', ['2020', '2021']], ['gamma', ['1.05', '1.1']]]);
    const p1 = planRuns('s1', PASS, grid);
    expect(p1.keys).toEqual(['seed', 'gamma']);
    expect(p1.runs.map((r) => r.config)).toEqual([
      { seed: '2020', gamma: '1.05' }, { seed: '2020', gamma: '1.1' }, { seed: '2021', gamma: '1.05' }, { seed: '2021', gamma: '1.1' },
    ]);
    expect(new Set(p1.runs.map((r) => r.hash)).size).toBe(4);
    expect(p1.runs.map((r) => r.jobId)).toEqual(planRuns('s1', PASS, grid).runs.map((r) => r.jobId));
    expect(p1.runs[0]!.jobId).toBe(`s1.${p1.runs[0]!.hash}`);
    // Another sweep with the same runs: other job ids, the same artifacts folders (hashes).
    const p2 = planRuns('s2', PASS, grid);
    expect(p2.runs.map((r) => r.hash)).toEqual(p1.runs.map((r) => r.hash));
    expect(p2.runs[0]!.jobId).not.toBe(p1.runs[0]!.jobId);
    expect(() => planRuns('s3', [...PASS, '--lambda=1.1'], new Map([['lambda', ['1.1', '1.1']]]))).toThrow(/have the same train flags/);
  });

  it('gives a sweep\'s fixed sparse flags only to the runs whose method reads them', () => {
    expect(runTrainArgs(['--data=x.csv', '--lambda=1.1', '--update_freq=5'], { method: 'dense' })).toEqual({ argv: ['--data=x.csv', '--method=dense'], dropped: ['lambda', 'update_freq'] });
    expect(runTrainArgs(['--data=x.csv', '--lambda=1.1', '--update_freq=5'], { method: 'rigl' })).toEqual({ argv: ['--data=x.csv', '--update_freq=5', '--method=rigl'], dropped: ['lambda'] });
    expect(runTrainArgs(['--method=pals', '--lambda=1.1'], { seed: '1' })).toEqual({ argv: ['--method=pals', '--lambda=1.1', '--seed=1'], dropped: [] });
    // The queued plan hashes the same arguments: dense runs do not differ by a flag they never read.
    const { runs } = planRuns('m', [...PASS.filter((w) => !w.startsWith('--method=')), '--lambda=1.1'], new Map([['method', ['dense', 'pals']]]));
    expect(runs[0]!.argv).not.toContain('--lambda');
    expect(runs[1]!.argv).toContain('--lambda');
  });

  it('checks sweep names and folder names', () => {
    expect(() => checkSweepName('etth1-pals_v2.1')).not.toThrow();
    for (const bad of ['', '123', 'a:b', 'a b', '-x']) expect(() => checkSweepName(bad), bad).toThrow(/--name/);
    expect(runName({ data: 'data/ETTh1.csv', seed: '2020' })).toBe('datadata-ETTh1.csv_seed2020');
    expect(runName({ lambda: '1.05', gamma: '1.1' })).toBe('lambda1.05_gamma1.1');
  });

  it('reads Redis URLs: host, port, database, credentials, TLS; messages hide the password', () => {
    expect(redisOptions('redis://10.0.0.5:6380/2')).toEqual({ host: '10.0.0.5', port: 6380, db: 2 });
    expect(redisOptions('redis://localhost')).toEqual({ host: 'localhost', port: 6379, db: 0 });
    expect(redisOptions('rediss://user:p%40ss@h:1/0')).toEqual({ host: 'h', port: 1, db: 0, username: 'user', password: 'p@ss', tls: {} });
    expect(safeUrl('redis://:secret@h:6379/0')).toBe('redis://:***@h:6379/0');
    expect(() => redisOptions('http://h:1')).toThrow(/not a redis:\/\/ or rediss:\/\/ URL/);
    expect(() => redisOptions('redis://h:1/x')).toThrow(/must be a number/);
    expect(() => redisOptions('h:1')).toThrow();
  });
});
