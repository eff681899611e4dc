/**
 * The full-size table (docs/results-full.md), run through the job queue as a user with several machines would:
 *
 *   npx tsx scripts/results-full.ts [--queue redis://host:port/db] [--workers 2] [--minutes 60]
 *       [--horizons 24,36,48,60] [--seeds 2020,2021,2022] [--models Transformer,NSTransformer]
 *       [--data_dir ../shared/data] [--artifacts DIR] [--tabulate_only]
 *
 * Full preset (d_model 512, 8 heads, d_ff 2048), TSLib's national_illness protocol (seq_len 36, label_len 18,
 * e_layers 2, d_layers 1, factor 3, batch 32, lr 1e-4, every batch, up to 10 epochs, patience 3; NSTransformer's
 * projector 32,32 as TSLib's script has it), dense and PALS (λ = γ = 1.1, ΔT 5 as the reference's ILI script), one
 * sweep per (horizon, seed, method)
 * holding both models, enqueued horizon by horizon so that what finishes first are whole rows.
 *
 * Without --queue the script starts a redis-server of its own (append-only file in the results folder) and
 * --workers `sparsecast worker` processes on this machine (one kernel thread each). It stops them after
 * --minutes (SIGTERM: a running job checkpoints and goes back to the queue) and tabulates what finished; run
 * it again and the same Redis data, the idempotent enqueue and the checkpoints in --artifacts continue the
 * table where it stopped. With --queue it only enqueues, waits --minutes for workers elsewhere, and tabulates.
 *
 * exchange_rate (`--exchange_horizons 96`, default none): TSLib's Exchange scripts (seq_len 96, label_len 48, factor 3,
 * NSTransformer's projector 256,256), PALS at the reference's ΔT 20, enqueued after every national_illness sweep. A
 * full-size exchange_rate epoch is 160 batches of seq_len 96 (some 20–25 national_illness epochs here), so these
 * rows run on a stated, cut budget: `--exchange_epochs` (default 2) of TSLib's 10, `--exchange_seeds` (default
 * 2020); the table prints that budget above them.
 *
 * The reference's λ × γ grid (`--grid_cells 48:NSTransformer:2020,…`, default none): for each named national_illness
 * cell (horizon:model:seed) one more sweep, PALS at λ, γ ∈ {1.05, 1.1, 1.2} with the reference's selection (lowest
 * validation loss), enqueued after everything else; its own section of the table, beside that seed's dense run.
 *
 * Results: each finished sweep is collected (sparsecast sweep --collect) and its runs appended once to
 * docs/runs/full.jsonl ({sweep, config, result}); the Markdown is written from that file, with the budget, the
 * unfinished sweeps and the command that continues them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { PRESETS } from '../src/models/config.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const list = (name: string, fallback: string) => flag(name, fallback).split(',').filter(Boolean);
const dataDir = flag('data_dir', existsSync('../shared/data') ? '../shared/data' : 'data');
const home = resolve(flag('home', '/tmp/sparsecast-results/full'));
const artifacts = resolve(flag('artifacts', join(home, 'artifacts')));
const workers = Number(flag('workers', '2'));
const minutes = Number(flag('minutes', '60'));
const horizons = list('horizons', '24,36,48,60');
const seeds = list('seeds', '2020,2021,2022');
const models = list('models', 'Transformer,NSTransformer');
// ΔT 5: the reference's ILI script (PALS-REFERENCE.md: its other scripts pass 20, which on ILI's 19 batches an
// epoch would leave PALS five decisions in all).
const methods: Record<string, string[]> = { dense: ['--method', 'dense'], PALS: ['--method', 'pals', '--lambda', '1.1', '--gamma', '1.1', '--update_freq', '5'] };
const tabulateOnly = args.includes('--tabulate_only');
const runsFile = 'docs/runs/full.jsonl';
const outMd = 'docs/results-full.md';

/** TSLib's national_illness script (Transformer / Nonstationary_Transformer), full preset, every batch. */
const protocol = ['--preset', 'full', '--seq_len', '36', '--label_len', '18', '--e_layers', '2', '--d_layers', '1', '--factor', '3',
  '--batch_size', '32', '--learning_rate', '0.0001', '--train_epochs', '10', '--patience', '3', '--p_hidden_dims', '32,32',
  '--p_hidden_layers', '2', '--backend', 'wasm', '--threads', '1', '--no_epoch_test'];
/**
 * NSTransformer's projector per horizon in TSLib's national_illness script and the PALS reference's (the same):
 * 32,32 at 24 and 36, 16,16 at 48, 8,8 at 60. The first runs here took 32,32 at every horizon (in `protocol`);
 * NSTransformer at 48 and 60 runs in sweeps of its own, named with the projector (`-nst-p16`), and the earlier
 * 32,32 rows are shown apart from the table (legacyRow).
 */
const ILI_PROJECTOR: Record<string, string> = { 24: '32,32', 36: '32,32', 48: '16,16', 60: '8,8' };
const projectorArgs = (h: string) => (ILI_PROJECTOR[h] && ILI_PROJECTOR[h] !== '32,32' ? ['--p_hidden_dims', ILI_PROJECTOR[h]!] : []);
/** The suffix of a sweep whose NSTransformer runs take the script's projector where it is not 32,32. */
const projectorSuffix = (h: string) => (projectorArgs(h).length ? `-nst-p${ILI_PROJECTOR[h]!.split(',')[0]}` : '');

/**
 * TSLib's Exchange scripts (Transformer / Nonstationary_Transformer at pred_len 96), full preset, every batch of
 * each epoch; the epochs are the stated budget. PALS at ΔT 20, the reference's value for every set but ILI.
 */
const exchangeHorizons = list('exchange_horizons', '');
const exchangeSeeds = list('exchange_seeds', '2020');
const exchangeEpochs = flag('exchange_epochs', '2');
const exchangeMethods: Record<string, string[]> = { dense: ['--method', 'dense'], PALS: ['--method', 'pals', '--lambda', '1.1', '--gamma', '1.1', '--update_freq', '20'] };
const exchangeProtocol = ['--preset', 'full', '--seq_len', '96', '--label_len', '48', '--e_layers', '2', '--d_layers', '1', '--factor', '3',
  '--batch_size', '32', '--learning_rate', '0.0001', '--train_epochs', exchangeEpochs, '--patience', '3', '--p_hidden_dims', '256,256',
  '--p_hidden_layers', '2', '--backend', 'wasm', '--threads', '1', '--no_epoch_test'];

interface Sweep {
  name: string;
  /** The data file's base name, as the runs' JSON lines name it. */
  data: string;
  horizon: string;
  seed: string;
  method: string;
  argv: string[];
  /** A λ × γ grid sweep (its runs are not the fixed-λ table's PALS runs). */
  grid?: boolean;
}
const sweeps: Sweep[] = [];
/** A list of models is a sweep axis; one model alone is no sweep, so it goes as a one-value --grid. */
const modelArgs = (ms: string[]) => (ms.length > 1 ? ['--model', ms.join(',')] : ['--grid', `model=${ms[0]}`]);
for (const h of horizons) for (const s of seeds) for (const [m, mf] of Object.entries(methods)) {
  const ownProjector = projectorSuffix(h) !== '' && models.includes('NSTransformer');
  const shared = ownProjector ? models.filter((x) => x !== 'NSTransformer') : models;
  if (shared.length) {
    sweeps.push({
      name: `full-ili-${h}-${m.toLowerCase()}-${s}`, data: 'national_illness.csv', horizon: h, seed: s, method: m,
      argv: ['--data', join(dataDir, 'national_illness.csv'), ...modelArgs(shared), '--pred_len', h, '--seed', s, ...mf, ...protocol],
    });
  }
  if (ownProjector) {
    sweeps.push({
      name: `full-ili-${h}-${m.toLowerCase()}-${s}${projectorSuffix(h)}`, data: 'national_illness.csv', horizon: h, seed: s, method: m,
      argv: ['--data', join(dataDir, 'national_illness.csv'), ...modelArgs(['NSTransformer']), '--pred_len', h, '--seed', s, ...mf, ...protocol, ...projectorArgs(h)],
    });
  }
}
// After every ILI sweep, so that what finishes first are the ILI rows (the queue hands out jobs in order).
for (const h of exchangeHorizons) for (const s of exchangeSeeds) for (const [m, mf] of Object.entries(exchangeMethods)) {
  sweeps.push({
    name: `full-exchange-${h}-e${exchangeEpochs}-${m.toLowerCase()}-${s}`, data: 'exchange_rate.csv', horizon: h, seed: s, method: m,
    argv: ['--data', join(dataDir, 'exchange_rate.csv'), ...modelArgs(models), '--pred_len', h, '--seed', s, ...mf, ...exchangeProtocol],
  });
}

/** The reference's grid (its run.py: lambda and gamma each in 1.05, 1.1, 1.2) and its "loss" selection. */
const GRID_VALUES = ['1.05', '1.1', '1.2'];
const gridCells = list('grid_cells', '').map((c) => {
  const [h, model, seed, ...more] = c.split(':');
  if (!h || !model || !seed || more.length || !/^\d+$/.test(h) || !/^\d+$/.test(seed)) throw new Error(`--grid_cells: each cell is HORIZON:MODEL:SEED (48:NSTransformer:2020), got '${c}'`);
  return { h, model, seed };
});
for (const c of gridCells) {
  const own = c.model === 'NSTransformer' ? projectorSuffix(c.h) : '';
  sweeps.push({
    name: `full-ili-${c.h}-palsgrid-${c.model.toLowerCase()}-${c.seed}${own}`, data: 'national_illness.csv', horizon: c.h, seed: c.seed, method: 'PALS', grid: true,
    argv: ['--data', join(dataDir, 'national_illness.csv'), '--model', c.model, '--pred_len', c.h, '--seed', c.seed, '--method', 'pals', '--update_freq', '5',
      '--grid', `lambda=${GRID_VALUES.join(',')}`, `gamma=${GRID_VALUES.join(',')}`, '--select', 'loss', ...protocol, ...(own ? projectorArgs(c.h) : [])],
  });
}
// --sweeps REGEX: enqueue and collect only the sweeps whose names match (a rerun of some cells on a queue of its own).
const only = flag('sweeps', '');
if (only) sweeps.splice(0, sweeps.length, ...sweeps.filter((s) => new RegExp(only).test(s.name)));
const gridSweepNames = new Set(sweeps.filter((s) => s.grid).map((s) => s.name));
/** A line of a grid sweep: by its name's pattern, so that a table made without --grid_cells still leaves them out. */
const isGridRow = (r: { sweep: string }) => gridSweepNames.has(r.sweep) || r.sweep.includes('-palsgrid-');

const cli = (a: string[]) => spawnSync(process.execPath, ['bin/sparsecast.js', ...a], { encoding: 'utf8' });

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

async function startRedis(): Promise<{ url: string; proc: ChildProcess }> {
  const dir = join(home, 'redis');
  mkdirSync(dir, { recursive: true });
  if (spawnSync('redis-server', ['--version']).error) throw new Error('redis-server is not installed: run bash scripts/setup-system.sh');
  const port = await freePort();
  // Its own process group: a Ctrl-C in the terminal must not stop Redis while the workers give their jobs back.
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', dir], { stdio: 'ignore', detached: true });
  const t0 = Date.now();
  while (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() !== 'PONG') {
    if (Date.now() - t0 > 15_000) throw new Error(`redis-server on port ${port} did not answer within 15 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url: `redis://127.0.0.1:${port}/0`, proc };
}

/** Collect every finished sweep not yet in runsFile; returns the names still unfinished. */
function collect(url: string): string[] {
  const have = new Set(existsSync(runsFile) ? readFileSync(runsFile, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { sweep: string }).sweep) : []);
  const unfinished: string[] = [];
  for (const s of sweeps) {
    if (have.has(s.name)) continue;
    const out = join(home, 'collected', s.name);
    const r = cli(['sweep', '--queue', url, '--name', s.name, '--collect', '--out', out]);
    if (r.status !== 0) {
      unfinished.push(s.name);
      continue;
    }
    for (const line of readFileSync(join(out, 'sweep.jsonl'), 'utf8').split('\n').filter(Boolean)) {
      // The run's JSON line (it names its model, method, pred_len and metrics), with the sweep it came from.
      const row = JSON.parse(line) as Record<string, unknown>;
      appendFileSync(runsFile, JSON.stringify({ sweep: s.name, horizon: Number(s.horizon), seed: Number(s.seed), ...row }) + '\n');
    }
  }
  return unfinished;
}

// ---- the table ----------------------------------------------------------------------------------------------

/** The paper's national_illness figures (PALS, Table: NSTransformer, full preset): dense MSE, PALS MSE, PALS sparsity. */
const PAPER_NST: Record<string, [number, number, number]> = { 24: [2.555, 2.641, 0.35], 36: [1.913, 2.111, 0.254], 48: [1.873, 2.186, 0.256], 60: [2.209, 2.391, 0.34] };

/** A line of runsFile: the run's JSON line (model, method 'dense' | 'pals', metrics) with its sweep, horizon and seed. */
interface Row {
  sweep: string;
  horizon: number;
  seed: number;
  method: string;
  model: string;
  [metric: string]: number | string;
}

/** "mean ± sd (n)": sample standard deviation across seeds; one seed shows no spread. */
function meanSd(xs: number[], d = 3): string {
  if (!xs.length) return '–';
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (xs.length === 1) return `${m.toFixed(d)} (1 seed)`;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
  return `${m.toFixed(d)} ± ${sd.toFixed(d)} (${xs.length})`;
}

/** Relative differences as "+4.1% ± 2.0%" (mean ± sample sd; one value alone). */
function pctSd(xs: number[]): string {
  const pc = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}%`;
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (xs.length === 1) return pc(m);
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
  return `${pc(m)} ± ${(100 * sd).toFixed(1)}%`;
}

/** The paper's exchange_rate figures (NSTransformer, full preset): dense MSE, PALS MSE, PALS sparsity. */
const PAPER_NST_EXCHANGE: Record<string, [number, number, number]> = { 96: [0.124, 0.116, 0.904] };

/** The table rows of one data set: per model × horizon, dense against PALS over the seeds that finished. */
function tableLines(rows: Row[], data: string, hs: number[], paper: Record<string, [number, number, number]>): { lines: string[]; verdicts: string[] } {
  const pick = (model: string, h: number, method: string) => rows.filter((r) => r.data === data && r.model === model && r.horizon === h && r.method === method.toLowerCase());
  const lines: string[] = [];
  lines.push('| model | horizon | dense MSE | PALS MSE | PALS / dense | PALS − dense, paired by seed | PALS sparsity | dense MAE | PALS MAE | epochs (dense / PALS) | PALS inference, batch 32: dense twin → sparse ms | paper NSTransformer: dense / PALS (sparsity) |');
  lines.push(`|${' --- |'.repeat(12)}`);
  const v = (rs: Row[], k: string) => rs.map((r) => Number(r[k])).filter(Number.isFinite);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const verdicts: string[] = [];
  for (const model of models) for (const h of hs) {
    const d = pick(model, h, 'dense');
    const p = pick(model, h, 'PALS');
    if (!d.length && !p.length) continue;
    const ratio = d.length && p.length ? mean(v(p, 'mse')) / mean(v(d, 'mse')) : NaN;
    // Paired by seed: a seed's dense and PALS runs share their initialisation seed and batch order, so the
    // per-seed difference removes the part of the spread the two methods share (a seed that is hard for dense
    // is mostly hard for PALS too) — the honest test of "PALS trails dense" with three seeds.
    const pairs = p.map((r) => [r, d.find((x) => x.seed === r.seed)] as const).filter((x): x is readonly [Row, Row] => x[1] !== undefined)
      .map(([a, b]) => Number(a.mse) / Number(b.mse) - 1).filter(Number.isFinite);
    const pairedCell = pairs.length ? `${pctSd(pairs)} (PALS lower in ${pairs.filter((x) => x < 0).length} of ${pairs.length})` : '–';
    const ref = model === 'NSTransformer' && paper[h] ? `${paper[h]![0]} / ${paper[h]![1]} (${(100 * paper[h]![2]).toFixed(1)}%)` : '–';
    lines.push(`| ${model} | ${h} | ${meanSd(v(d, 'mse'))} | ${meanSd(v(p, 'mse'))} | ${Number.isFinite(ratio) ? ratio.toFixed(3) : '–'} | ${pairedCell} | ` +
      `${meanSd(v(p, 'sparsity'))} | ${meanSd(v(d, 'mae'))} | ${meanSd(v(p, 'mae'))} | ${meanSd(v(d, 'epochs_run'), 1)} / ${meanSd(v(p, 'epochs_run'), 1)} | ` +
      `${p.length ? `${meanSd(v(p, 'infer_ms_dense'), 0)} → ${meanSd(v(p, 'infer_ms_sparse'), 0)}` : '–'} | ${ref} |`);
    // Say plainly what the row shows, from its numbers.
    if (!d.length || !p.length) continue;
    const md = mean(v(d, 'mse'));
    const mp = mean(v(p, 'mse'));
    const sd = (xs: number[], m: number) => (xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : NaN);
    const spread = Math.max(sd(v(d, 'mse'), md), sd(v(p, 'mse'), mp));
    const within = Number.isFinite(spread) ? (Math.abs(mp - md) < spread ? `, within the seeds' spread (sd up to ${spread.toFixed(3)})` : `, beyond the seeds' spread (sd up to ${spread.toFixed(3)})`) : ', one seed: no spread to judge it by';
    const paired = pairs.length > 1 ? `; paired by seed ${pctSd(pairs)}, PALS lower in ${pairs.filter((x) => x < 0).length} of ${pairs.length}` : '';
    verdicts.push(`${model} ${data.replace(/\.csv$/, '')} H${h}: PALS ${mp < md ? 'beats' : 'trails'} dense by ${(100 * Math.abs(mp / md - 1)).toFixed(1)}% in mean test MSE (${p.length} vs ${d.length} seeds${within}${paired})`);
  }
  return { lines, verdicts };
}

/**
 * The λ × γ grid of single national_illness cells: every grid point, the run the reference's selection picks
 * (lowest validation loss — the test set plays no part in it), and both beside the same seed's dense run and the
 * fixed λ = γ = 1.1 run of the main table.
 */
function gridSection(gridRows: Row[], rows: Row[]): string[] {
  const names = [...new Set([...sweeps.filter((s) => s.grid).map((s) => s.name), ...gridRows.map((r) => r.sweep)])];
  if (!names.length) return [];
  const lines = ['## national_illness: the reference\'s λ × γ grid and selection', ''];
  lines.push(`PALS's reference trains λ, γ ∈ {${GRID_VALUES.join(', ')}} (9 runs) for each setting and keeps the run with the lowest ` +
    'validation loss (`--select loss`). The main table runs λ = γ = 1.1 only; here the whole grid for single cells (horizon, model, seed), ' +
    'same protocol, one sweep of the queue each.', '');
  for (const name of names) {
    const rs = gridRows.filter((r) => r.sweep === name);
    const sw = sweeps.find((s) => s.name === name);
    const [h, model, seed] = rs.length ? [rs[0]!.horizon, String(rs[0]!.model), rs[0]!.seed] : [Number(sw?.horizon), sw?.argv[sw.argv.indexOf('--model') + 1] ?? '?', Number(sw?.seed)];
    const projector = model === 'NSTransformer' ? (/-nst-p(\d+)$/.exec(name)?.[1] ?? '32') : '';
    const scriptProjector = ILI_PROJECTOR[h]?.split(',')[0];
    lines.push(`### ${model}, horizon ${h}, seed ${seed}${projector ? `, projector ${projector},${projector}${projector !== scriptProjector ? ` (the first runs'; the scripts' is ${scriptProjector},${scriptProjector})` : ''}` : ''}`, '');
    if (rs.length < GRID_VALUES.length ** 2) {
      lines.push(`Not finished: ${rs.length} of ${GRID_VALUES.length ** 2} runs collected (a sweep is collected when all its runs are done). The same command continues it.`, '');
      continue;
    }
    const selected = rs.reduce((a, b) => (Number(b.best_val) < Number(a.best_val) ? b : a));
    lines.push('| λ | γ | val loss | test MSE | test MAE | sparsity | epochs | selected |', `|${' --- |'.repeat(8)}`);
    for (const r of rs) {
      lines.push(`| ${r.lambda} | ${r.gamma} | ${Number(r.best_val).toFixed(4)} | ${Number(r.mse).toFixed(3)} | ${Number(r.mae).toFixed(3)} | ` +
        `${Number(r.sparsity).toFixed(3)} | ${r.epochs_run} | ${r === selected ? '**by val loss**' : ''} |`);
    }
    lines.push('');
    // The same seed's dense and fixed-λ runs with the same projector as the grid.
    const same = (r: Row) => r.data === 'national_illness.csv' && r.model === model && r.horizon === h && r.seed === seed && (model !== 'NSTransformer' || projectorOfRow(r) === `${projector},${projector}`);
    const dense = rows.find((r) => same(r) && r.method === 'dense');
    const fixed = rows.find((r) => same(r) && r.method === 'pals');
    const rel = (a: Row, b: Row | undefined) => (b ? ` (${Number(a.mse) >= Number(b.mse) ? '+' : '−'}${Math.abs(100 * (Number(a.mse) / Number(b.mse) - 1)).toFixed(1)}% against dense)` : '');
    const best = rs.reduce((a, b) => (Number(b.mse) < Number(a.mse) ? b : a));
    const msesSorted = rs.map((r) => Number(r.mse)).sort((a, b) => a - b);
    lines.push(`**What it shows:** the selection picks λ = ${selected.lambda}, γ = ${selected.gamma}: test MSE ${Number(selected.mse).toFixed(3)} at ` +
      `${(100 * Number(selected.sparsity)).toFixed(1)}% sparsity${rel(selected, dense)}` +
      `${dense ? `; the same seed's dense run ${Number(dense.mse).toFixed(3)}` : ''}` +
      `${fixed ? `, the fixed λ = γ = 1.1 run of the main table ${Number(fixed.mse).toFixed(3)}${rel(fixed, dense)}` : ''}. ` +
      `Across the grid the test MSE runs ${msesSorted[0]!.toFixed(3)}–${msesSorted[msesSorted.length - 1]!.toFixed(3)} and the sparsity ` +
      `${(100 * Math.min(...rs.map((r) => Number(r.sparsity)))).toFixed(1)}–${(100 * Math.max(...rs.map((r) => Number(r.sparsity)))).toFixed(1)}%; ` +
      `the lowest test MSE (λ = ${best.lambda}, γ = ${best.gamma}, ${Number(best.mse).toFixed(3)}${rel(best, dense)}) is shown for scale only: picking by the test set is not a selection.`, '');
  }
  return lines;
}

/** The projector an ILI NSTransformer row ran with: its sweep's suffix (-nst-p16), else the first runs' 32,32. */
function projectorOfRow(r: Row): string {
  const m = /-nst-p(\d+)$/.exec(r.sweep);
  return m ? `${m[1]},${m[1]}` : '32,32';
}

/** An ILI NSTransformer row whose projector is not its horizon's in the scripts (the first runs at 48 and 60). */
function legacyRow(r: Row): boolean {
  return r.data === 'national_illness.csv' && r.model === 'NSTransformer' && ILI_PROJECTOR[r.horizon] !== undefined && projectorOfRow(r) !== ILI_PROJECTOR[r.horizon];
}

function tabulate(unfinished: string[] | null): void {
  const all: Row[] = existsSync(runsFile) ? readFileSync(runsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row) : [];
  const rows = all.filter((r) => !isGridRow(r) && !legacyRow(r));
  const legacy = all.filter((r) => !isGridRow(r) && legacyRow(r));
  const gridRows = all.filter(isGridRow);
  const ili = rows.filter((r) => r.data === 'national_illness.csv');
  const lines: string[] = [];
  const cmd = `npx tsx scripts/results-full.ts ${args.filter((a) => a !== '--tabulate_only').join(' ')}`.trim();
  lines.push(`<!-- generated by: ${cmd} -->`, '', '# Full-size results: national_illness and exchange_rate, dense vs PALS', '');
  lines.push(`Made by \`${cmd}\`: each run a job of the Redis queue (BullMQ), taken by \`sparsecast worker\` processes ` +
    `(${workers} on this machine, one kernel thread each; CPU: ${cpus()[0]?.model ?? 'unknown'}), collected with \`sparsecast sweep --collect\`. ` +
    `Every run's JSON line is in \`${runsFile}\`.`, '');
  lines.push('## national_illness', '');
  // The sizes as the runs had them (the PALS reference's arg_utils defaults; TSLib's run.py has dropout 0.1).
  const p = PRESETS.full;
  lines.push(`**Protocol:** full preset (d_model ${p.dModel}, ${p.nHeads} heads, e_layers ${p.eLayers}, d_layers ${p.dLayers}, d_ff ${p.dFf}, dropout ${p.dropout}: ` +
    'the PALS reference\'s defaults), TSLib\'s national_illness ' +
    'script (seq_len 36, label_len 18, factor 3, batch 32, learning rate 1e-4, **every training batch, up to 10 epochs, early ' +
    'stopping with patience 3**, validation and test over all windows; NSTransformer\'s projector 32,32 at 24 and 36, 16,16 at 48, 8,8 at 60, ' +
    '2 layers, as the script and the PALS reference\'s give it), wasm ' +
    'backend. PALS with λ = γ = 1.1 and ΔT 5 (the reference\'s ILI script; no λ × γ grid or selection here: each grid point would multiply ' +
    `the budget by 9${gridRows.length ? '; the grid for single cells is in its own section below' : ''}). Mean ± sample standard deviation over the seeds that finished (the count in brackets).`, '');
  const iliTable = tableLines(rows, 'national_illness.csv', horizons.map(Number), PAPER_NST);
  lines.push(...iliTable.lines, '');
  if (iliTable.verdicts.length) lines.push(`**What it shows:** ${iliTable.verdicts.join('; ')}. At the small preset PALS cost accuracy on every set (docs/results-sparse.md); a difference smaller than the seeds' spread is not a finding, unless every seed's pair says the same.`, '');
  if (ili.length) {
    const perEpoch = ili.map((r) => Number(r.train_seconds) / Number(r.epochs_run)).filter(Number.isFinite).sort((a, b) => a - b);
    const secs = ili.map((r) => Number(r.train_seconds)).filter(Number.isFinite).sort((a, b) => a - b);
    lines.push(`**Time:** an epoch (19 training batches and the validation pass) took ${perEpoch[0]!.toFixed(0)}–${perEpoch[perEpoch.length - 1]!.toFixed(0)} s ` +
      `on one thread with the other worker beside it (and, for some runs, builds and tests on the same two cores), a run ${secs[0]!.toFixed(0)}–${secs[secs.length - 1]!.toFixed(0)} s of training ` +
      `(early stopping ends some before 10 epochs); the inference column is the PALS runs' own timing by the CLI of the trained model, ` +
      `its masked layers dense (the dense twin) against sparse execution, interleaved in one process while the other worker trained.`, '');
  }
  const iliSweeps = sweeps.filter((s) => s.data === 'national_illness.csv' && !s.grid);
  const modelsOf = (s: Sweep) => (s.argv.includes('--model') ? s.argv[s.argv.indexOf('--model') + 1]!.split(',').length : 1);
  const expected = iliSweeps.reduce((n, s) => n + modelsOf(s), 0);
  lines.push(`**Budget:** ${ili.length} of ${expected} runs finished (${models.join(', ')} × horizons ${horizons.join(' / ')} × seeds ` +
    `${seeds.join(', ')} × dense, PALS, in ${iliSweeps.length} sweeps). A full-size step takes seconds on this CPU, so the ` +
    `table grows with the time given to it.`, '');
  if (legacy.length) {
    lines.push('### NSTransformer at 48 and 60 with the 32,32 projector (the first runs)', '');
    lines.push('The first runs of this table gave NSTransformer the 32,32 projector at every horizon; the scripts give it 16,16 at 48 and ' +
      '8,8 at 60, which the table above runs. The earlier runs, same protocol otherwise, kept here (the grid section below is of them too):', '');
    const legacyTable = tableLines(legacy, 'national_illness.csv', [...new Set(legacy.map((r) => r.horizon))].sort((a, b) => a - b), PAPER_NST);
    lines.push(...legacyTable.lines, '');
    if (legacyTable.verdicts.length) lines.push(`**What they showed:** ${legacyTable.verdicts.join('; ')}.`, '');
  }
  lines.push(...gridSection(gridRows, [...rows, ...legacy]));
  lines.push('## exchange_rate', '');
  const ex = rows.filter((r) => r.data === 'exchange_rate.csv');
  const exHs = [...new Set([...exchangeHorizons.map(Number), ...ex.map((r) => r.horizon)])].sort((a, b) => a - b);
  if (ex.length) {
    const epochs = [...new Set(ex.map((r) => Number(r.epochs_run)))].sort((a, b) => a - b);
    lines.push(`**Budget (cut short):** ${epochs.join(' / ')} epoch${epochs.length === 1 && epochs[0] === 1 ? '' : 's'} of every training batch (TSLib trains up to 10), ` +
      `seeds ${[...new Set(ex.map((r) => r.seed))].join(', ')}; TSLib's Exchange scripts otherwise (seq_len 96, label_len 48, factor 3, batch 32, ` +
      'learning rate 1e-4; NSTransformer\'s projector 256,256 × 2 layers, TSLib\'s: the PALS reference\'s script, behind the paper\'s figures, ' +
      'gives 16,16); PALS λ = γ = 1.1 at ΔT 20. The paper trained to convergence: ' +
      'a cut-short row says how far each method gets on the same budget, not where it ends.', '');
    const exTable = tableLines(rows, 'exchange_rate.csv', exHs, PAPER_NST_EXCHANGE);
    lines.push(...exTable.lines, '');
    const exSparsity = ex.filter((r) => r.method === 'pals').map((r) => Number(r.sparsity)).filter(Number.isFinite);
    const sparsityNote = exSparsity.length
      ? ` PALS's sparsity on this budget is ${(100 * Math.min(...exSparsity)).toFixed(1)}–${(100 * Math.max(...exSparsity)).toFixed(1)}% (the paper's NSTransformer: ` +
        `${(100 * PAPER_NST_EXCHANGE[96]![2]).toFixed(1)}% at convergence): the rows compare the methods early in PALS's schedule, not at the sparsity it ends at.`
      : '';
    if (exTable.verdicts.length) lines.push(`**What it shows (on this budget):** ${exTable.verdicts.join('; ')}.${sparsityNote}`, '');
  } else {
    lines.push('Not run yet: full-size exchange_rate (160 training batches of seq_len 96 an epoch, some 20–25 times a national_illness ' +
      'epoch here) beside the paper\'s NSTransformer at 96 (dense 0.124, PALS 0.116 at 90.4% sparsity). This script runs it on a stated, ' +
      'cut budget after the national_illness sweeps: add `--exchange_horizons 96 [--exchange_epochs 2] [--exchange_seeds 2020]`.', '');
  }
  if (unfinished && unfinished.length) {
    lines.push(`Unfinished sweeps (${unfinished.length}): ${unfinished.join(', ')}. The same command continues them: the Redis data ` +
      `(append-only file in ${home}/redis), the idempotent enqueue and the checkpoints in --artifacts pick up where this stopped.`);
  }
  writeFileSync(outMd, lines.join('\n') + '\n');
  console.log(`results-full: wrote ${outMd} (${rows.length} runs)`);
}

// ---- main ------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  mkdirSync(home, { recursive: true });
  mkdirSync(artifacts, { recursive: true });
  if (tabulateOnly) {
    const have = new Set(existsSync(runsFile) ? readFileSync(runsFile, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { sweep: string }).sweep) : []);
    return tabulate(sweeps.map((s) => s.name).filter((n) => !have.has(n)));
  }
  let url = flag('queue', '');
  let redis: ChildProcess | null = null;
  if (!url) ({ url, proc: redis } = await startRedis());
  const procs: ChildProcess[] = [];
  // One SIGTERM per worker, however often stop() is called: a second one makes a worker exit without its checkpoint.
  let stopped: Promise<unknown> | null = null;
  const stop = () => {
    stopped ??= (() => {
      for (const p of procs) p.kill('SIGTERM');
      return Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))));
    })();
    return stopped;
  };
  try {
    for (const s of sweeps) {
      const r = cli(['sweep', ...s.argv, '--queue', url, '--name', s.name]);
      if (r.status !== 0) throw new Error(`enqueue ${s.name} failed: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`);
    }
    console.log(`results-full: ${sweeps.length} sweeps enqueued on ${url}`);
    if (!flag('queue', '')) {
      for (let i = 0; i < workers; i++) {
        const log = join(home, `worker-${i}.log`);
        // Detached: the signal that stops this script reaches each worker once, from stop(); a second (a Ctrl-C
        // reaching the whole terminal group as well) would make it exit without checkpointing.
        const w = spawn(process.execPath, ['bin/sparsecast.js', 'worker', '--queue', url, '--artifacts', artifacts, '--threads', '1'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
        w.stdout!.on('data', (b) => appendFileSync(log, b));
        w.stderr!.on('data', (b) => appendFileSync(log, b));
        procs.push(w);
      }
    }
    // Ctrl-C / SIGTERM: the workers stop their runs at a checkpoint and give the jobs back before this exits (it
    // died at once before, and the workers, their log pipes closed, lost the runs under way).
    let stopping = false;
    const onSignal = (sig: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      console.error(`results-full: ${sig}: the workers stop at a checkpoint and give their jobs back; the same command continues`);
      process.exitCode = sig === 'SIGINT' ? 130 : 143;
      // The loop below sees `stopping` within 30 s, collects and tabulates what finished, and stops Redis.
      void stop();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const deadline = Date.now() + minutes * 60_000;
    let unfinished = collect(url);
    while (unfinished.length && Date.now() < deadline && !stopping) {
      await new Promise((r) => setTimeout(r, 30_000));
      unfinished = collect(url);
      tabulate(unfinished);
    }
    await stop();
    tabulate(collect(url));
  } finally {
    await stop();
    redis?.kill('SIGTERM');
  }
}

main().catch((e: unknown) => {
  console.error(`results-full: ${(e as Error).message}`);
  process.exit(1);
});
