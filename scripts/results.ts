/**
 * Produce the results tables of the README / docs by running the CLI:
 *
 *   npx tsx scripts/results.ts forecast [--data_dir ../shared/data] [--jobs 2] [--train_epochs 10] [--max_train_batches N]
 *       the five Transformer variants (small preset, dense, pred_len 96) on ETTh1, ETTh2, ETTm1, ETTm2 and
 *       exchange_rate, with the naive repeat-last baseline → docs/results-forecast.md
 *   npx tsx scripts/results.ts sparse [same flags, and --update_freq ΔT]
 *       Transformer small preset: dense, PALS (λ = γ = 1.1), PALS without expand, GraNet (final density 0.2),
 *       RigL (density 0.2) on the same five sets → docs/results-sparse.md
 *
 * Every run's JSON line is kept in docs/runs/<table>.jsonl; the Markdown states the exact command and flags.
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { accuracyCost, frontierSvg, measureRun, structureTable, type StudyKey, type StudyMeasure, type StudyRow } from './structure-study.ts';

const args = process.argv.slice(2);
const table = args[0];
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const dataDir = flag('data_dir', existsSync('../shared/data') ? '../shared/data' : 'data');
const jobs = Number(flag('jobs', '2'));
const epochs = flag('train_epochs', '10');
const maxBatches = flag('max_train_batches', '');
const valBatches = flag('val_batches', '');
const datasets = flag('datasets', 'ETTh1,ETTh2,ETTm1,ETTm2,exchange_rate').split(',');
const updateFreq = flag('update_freq', '');
// The per-epoch test pass only feeds log.jsonl; skipping it saves a third of the evaluation time on ETTm.
const epochTest = !args.includes('--no_epoch_test');

interface Job {
  key: Record<string, string>;
  argv: string[];
}

const common = ['--preset', 'small', '--pred_len', '96', '--train_epochs', epochs, '--seed', '2020', '--backend', 'wasm',
  ...(maxBatches ? ['--max_train_batches', maxBatches] : []), ...(epochTest ? [] : ['--no_epoch_test'])];
// Given only to the methods that read them (train refuses a flag its --method ignores).
const palsFlags = valBatches ? ['--val_batches', valBatches] : [];
const dynamicFlags = updateFreq ? ['--update_freq', updateFreq] : [];
const jobsList: Job[] = [];
if (table === 'forecast') {
  for (const d of datasets) for (const m of flag('models', 'Transformer,Informer,Autoformer,FEDformer,NSTransformer').split(',')) {
    // '--method dense' spelled out so the Transformer runs are the very runs of the sparse table's dense rows.
    jobsList.push({ key: { data: d, model: m }, argv: ['--data', join(dataDir, `${d}.csv`), '--model', m, '--method', 'dense', ...common] });
  }
} else if (table === 'sparse') {
  const methods: Record<string, string[]> = {
    dense: ['--method', 'dense'],
    'PALS': ['--method', 'pals', '--lambda', '1.1', '--gamma', '1.1', ...palsFlags, ...dynamicFlags],
    'PALS no expand': ['--method', 'pals', '--lambda', '1.1', '--gamma', '1.1', '--no_expand', ...palsFlags, ...dynamicFlags],
    'GraNet 0.2': ['--method', 'granet', '--final_density', '0.2', ...dynamicFlags],
    'RigL 0.2': ['--method', 'rigl', '--density', '0.2', ...dynamicFlags],
  };
  for (const d of datasets) for (const [name, m] of Object.entries(methods)) {
    jobsList.push({ key: { data: d, method: name }, argv: ['--data', join(dataDir, `${d}.csv`), '--model', 'Transformer', ...m, ...common] });
  }
} else if (table === 'structure') {
  // PALS and GraNet × each mask structure (issue 14's study). Unstructured runs spell no structure flag, so they
  // are the very runs of the sparse table when both exist at the same budget.
  const methods: Record<string, string[]> = {
    PALS: ['--method', 'pals', '--lambda', '1.1', '--gamma', '1.1', ...palsFlags, ...dynamicFlags],
    'GraNet 0.2': ['--method', 'granet', '--final_density', '0.2', ...dynamicFlags],
  };
  const structures: Record<string, string[]> = {
    unstructured: [],
    fan_in: ['--sparsity_structure', 'fan_in'],
    block: ['--sparsity_structure', 'block'],
  };
  for (const d of datasets) for (const [name, m] of Object.entries(methods)) for (const [s, sf] of Object.entries(structures)) {
    jobsList.push({ key: { data: d, method: name, structure: s }, argv: ['--data', join(dataDir, `${d}.csv`), '--model', 'Transformer', ...m, ...sf, ...common] });
  }
} else {
  console.error('usage: npx tsx scripts/results.ts forecast|sparse|structure [--data_dir DIR] [--jobs N] [--train_epochs N] [--max_train_batches N] [--val_batches N]');
  process.exit(2);
}

mkdirSync('docs/runs', { recursive: true });
const log = join('docs/runs', `${table}.jsonl`);
// A run counts only when it was made with exactly this command line (same budget, flags and data); runs are
// shared between tables (the forecast table's Transformer rows are the sparse table's dense runs).
const done = new Map<string, Record<string, unknown>>();
const byArgv = new Map<string, Record<string, unknown>>();
// The structure study measures its runs again from their folders (src/sparse kernels change under it), so it
// reuses only its own runs, whose folders this script keeps.
const sources = readdirSync('docs/runs').filter((x) => x.endsWith('.jsonl') && (table !== 'structure' || x === 'structure.jsonl'));
for (const f of sources) {
  for (const l of readFileSync(join('docs/runs', f), 'utf8').split('\n').filter(Boolean)) {
    const r = JSON.parse(l) as { argv?: string[]; result: Record<string, unknown> };
    if (r.argv) byArgv.set(JSON.stringify(r.argv), r.result);
  }
}
for (const job of jobsList) {
  const r = byArgv.get(JSON.stringify(job.argv));
  if (!r) continue;
  // Records written before the field existed: read it from the run's folder when that is still there.
  if (r.last_update_sparsity === undefined) {
    const last = lastUpdateSparsity(job);
    if (last !== undefined) r.last_update_sparsity = +last.toFixed(6);
  }
  done.set(JSON.stringify(job.key), r);
}

function outDir(job: Job): string {
  return join('/tmp/sparsecast-results', table!, Object.values(job.key).join('-').replace(/\s+/g, '_'));
}

/**
 * The controller's sparsity at its last topology update (sparsity.jsonl in the run's folder), beside the
 * reported one: the JSON line's `sparsity` is the best-validation checkpoint's mask, as the PALS reference
 * reports it, and a run whose best epoch came early kept pruning afterwards.
 */
function lastUpdateSparsity(job: Job): number | undefined {
  const f = join(outDir(job), 'sparsity.jsonl');
  if (!existsSync(f)) return undefined;
  const lines = readFileSync(f, 'utf8').split('\n').filter(Boolean);
  return lines.length ? (JSON.parse(lines[lines.length - 1]!) as { sparsity: number }).sparsity : undefined;
}

function run(job: Job): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/dev-cli.ts', 'train', ...job.argv, '--out', outDir(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`${JSON.stringify(job.key)} failed (${code})`))));
  });
}

// --tabulate_only: write the table from the runs already in docs/runs (missing ones show as –).
const tabulateOnly = args.includes('--tabulate_only');
let next = tabulateOnly ? jobsList.length : 0;
await Promise.all(Array.from({ length: jobs }, async () => {
  while (next < jobsList.length) {
    const job = jobsList[next++]!;
    if (done.has(JSON.stringify(job.key))) continue;
    const result = await run(job);
    const last = lastUpdateSparsity(job);
    if (last !== undefined) result.last_update_sparsity = +last.toFixed(6);
    done.set(JSON.stringify(job.key), result);
    appendFileSync(log, `${JSON.stringify({ key: job.key, argv: job.argv, result })}\n`);
    console.log(JSON.stringify({ ...job.key, ...result }));
  }
}));

if (table === 'structure') {
  await writeStructureStudy();
  process.exit(0);
}

const f = (v: unknown, d = 3) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '–');
const cmd = `npx tsx scripts/results.ts ${args.filter((a) => a !== '--tabulate_only').join(' ')}`;
let md: string;
if (table === 'forecast') {
  const models = [...new Set(jobsList.map((j) => j.key.model!))];
  md = [`| data | ${models.map((m) => `${m} MSE / MAE`).join(' | ')} | naive MSE / MAE |`, `|${' --- |'.repeat(models.length + 2)}`,
    ...datasets.map((d) => {
      const rs = models.map((m) => done.get(JSON.stringify({ data: d, model: m })));
      const naive = rs.find(Boolean);
      return `| ${d} | ${rs.map((r) => (r ? `${f(r.mse)} / ${f(r.mae)}` : '–')).join(' | ')} | ${naive ? `${f(naive.naive_mse)} / ${f(naive.naive_mae)}` : '–'} |`;
    })].join('\n');
} else {
  const methods = [...new Set(jobsList.map((j) => j.key.method!))];
  md = ['| data | method | test MSE | test MAE | sparsity | sparsity at last update | FLOPs reduction | epochs | train s | controller s |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...datasets.flatMap((d) => methods.map((m) => {
      const r = done.get(JSON.stringify({ data: d, method: m }));
      if (!r) return `| ${d} | ${m} | – | – | – | – | – | – | – | – |`;
      const red = 1 - Number(r.flops_sparse) / Number(r.flops_dense);
      return `| ${d} | ${m} | ${f(r.mse)} | ${f(r.mae)} | ${f(r.sparsity)} | ${f(r.last_update_sparsity)} | ${(100 * red).toFixed(1)}% | ${f(r.epochs_run, 0)} | ${f(r.train_seconds, 0)} | ${f(r.controller_seconds, 0)} |`;
    }))].join('\n');
}
const out = join('docs', `results-${table}.md`);
const TRAIN_BATCHES: Record<string, number> = { ETTh1: 264, ETTh2: 264, ETTm1: 1074, ETTm2: 1074, exchange_rate: 160 };
const budget = maxBatches || epochs !== '10'
  ? `**Reduced budget: up to ${epochs} epochs (early stopping, patience 3) × ${maxBatches || 'all'} training batches per epoch**, ` +
    `where the TSLib protocol trains up to 10 epochs over every batch (${datasets.map((d) => `${d} ${TRAIN_BATCHES[d] ?? '?'}`).join(', ')} ` +
    'batches of 32 per epoch). The learning rate still halves every epoch, so most runs stop or flatten within the budget, but the ' +
    'numbers are not comparable with published full-protocol ones. Validation (early stopping) and test metrics are over all ' +
    'windows of their splits, as the protocol defines them' +
    (valBatches ? `; PALS decides on ${valBatches} fixed seeded validation batches (\`--val_batches ${valBatches}\`)` : '') +
    (epochTest ? '.' : '; the per-epoch test pass is skipped (`--no_epoch_test`: log only, the final test is unchanged).') +
    (table === 'sparse' ? ' `sparsity` is the best-validation checkpoint\'s (the reference reloads it and reports its mask); ' +
      '`sparsity at last update` is where the controller stood at its last topology update.' : '') +
    ` Times are wall-clock seconds with ${jobs} runs sharing a 2-core machine, so compare them within a table only.`
  : 'Full TSLib schedule: up to 10 epochs over all batches, patience 3, lr 1e-4 halved each epoch.';
writeFileSync(out, `<!-- generated by: ${cmd} -->\n\nMade by \`${cmd}\` (small preset, pred_len 96, seed 2020, wasm backend, data from ${dataDir}).\n\n${budget}\n\n${md}\n`);
console.error(`results: wrote ${out}`);

/**
 * The structure study's measuring and writing (scripts/structure-study.ts): `--measure` measures every trained run
 * that has no measurement from this commit yet (`--remeasure`: all of them again), one at a time so no two
 * timings share the machine; the table then uses each run's latest measurement and states its commit and CPU.
 */
async function writeStructureStudy(): Promise<void> {
  const measureLog = join('docs/runs', 'structure-measure.jsonl');
  const measures = new Map<string, StudyMeasure>();
  if (existsSync(measureLog)) {
    for (const l of readFileSync(measureLog, 'utf8').split('\n').filter(Boolean)) {
      const m = JSON.parse(l) as StudyMeasure;
      measures.set(JSON.stringify(m.argv), m);
    }
  }
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
  if (args.includes('--measure') || args.includes('--remeasure')) {
    for (const job of jobsList) {
      if (!done.has(JSON.stringify(job.key)) || !existsSync(join(outDir(job), 'model.safetensors'))) continue;
      const prev = measures.get(JSON.stringify(job.argv));
      if (prev && prev.commit === commit && !args.includes('--remeasure')) continue;
      const m = measureRun(job.key as unknown as StudyKey, job.argv, outDir(job));
      measures.set(JSON.stringify(job.argv), m);
      appendFileSync(measureLog, `${JSON.stringify(m)}\n`);
      console.error(`measured ${JSON.stringify(job.key)}: infer ${m.eval.infer_ms_dense} → ${m.eval.infer_ms_sparse} ms, file ${m.bytes_dense} → ${m.bytes_sparse} B`);
    }
  }
  // The dense runs of the sparse table (same budget and flags). Older records of that table passed
  // --val_batches to every run (dense ignored it then; train refuses it now), so it is left out of the match.
  const withoutValBatches = (a: string[]) => a.filter((x, i) => x !== '--val_batches' && a[i - 1] !== '--val_batches');
  const denseMse = new Map<string, number>();
  const sparseLog = join('docs/runs', 'sparse.jsonl');
  if (existsSync(sparseLog)) {
    for (const l of readFileSync(sparseLog, 'utf8').split('\n').filter(Boolean)) {
      const r = JSON.parse(l) as { key: Record<string, string>; argv: string[]; result: Record<string, unknown> };
      const d = r.key.data!;
      const want = ['--data', join(dataDir, `${d}.csv`), '--model', 'Transformer', '--method', 'dense', ...common];
      if (r.key.method === 'dense' && JSON.stringify(withoutValBatches(r.argv)) === JSON.stringify(withoutValBatches(want))) denseMse.set(d, Number(r.result.mse));
    }
  }
  const rows: StudyRow[] = jobsList.filter((j) => done.has(JSON.stringify(j.key))).map((j) => ({
    key: j.key as unknown as StudyKey, result: done.get(JSON.stringify(j.key))!, measure: measures.get(JSON.stringify(j.argv)),
  }));
  const missing = jobsList.filter((j) => !done.has(JSON.stringify(j.key))).map((j) => Object.values(j.key).join(' / '));
  const measured = rows.filter((r) => r.measure);
  const commits = [...new Set(measured.map((r) => r.measure!.commit))];
  const cpusSeen = [...new Set(measured.map((r) => r.measure!.cpu))];
  const cmd = `npx tsx scripts/results.ts ${args.filter((a) => !['--tabulate_only', '--measure', '--remeasure'].includes(a)).join(' ')}`;
  const svg = frontierSvg(rows, denseMse);
  if (svg) writeFileSync('docs/results-structure.svg', `${svg}\n`);
  const md = [
    `<!-- generated by: ${cmd} --measure -->`, '',
    '# Mask structures: what they buy and what they cost', '',
    `Trained by \`${cmd}\` (small preset Transformer, pred_len 96, seed 2020, wasm backend, data from ${dataDir}); ` +
      `measured by the same command with \`--measure\`. **Budget: up to ${epochs} epochs (early stopping, patience 3) × ${maxBatches || 'all'} ` +
      'training batches per epoch** — the sparse table\'s (docs/results-sparse.md), so its dense runs are the dense reference here' +
      (valBatches ? `; PALS decides on ${valBatches} fixed seeded validation batches` : '') + '. PALS: λ = γ = 1.1; GraNet: final density 0.2. ' +
      '`fan_in` and `block` use the defaults (`--fan_in_ablation 0.3`, `--block_size 4`); the rules are in src/sparse/structure.ts.', '',
    'Timings: `sparsecast eval` of each run folder — one test batch of 32 windows, one window (batch 1) and one training step ' +
      '(forward + backward), each a median after warm-up, with the masked layers dense (the dense twin: the same model run by the ' +
      'dense GEMM) and with sparse execution as the trainer runs it, in the same process, one run measured at a time. ' +
      `Measured at commit ${commits.join(', ') || '–'} on ${cpusSeen.join(', ') || '–'} (2 cores, one thread). ` +
      'File sizes: `sparsecast export` as it writes the file, and the same model with every layer stored dense.', '',
    ...(missing.length ? [`**Not yet trained (${missing.length} of ${jobsList.length} runs):** ${missing.join('; ')}. The same command trains them (finished runs are kept and reused).`, ''] : []),
    structureTable(rows, denseMse), '',
    '## What a structure costs in accuracy (test MSE against the unstructured run, same method and data)', '',
    ...accuracyCost(rows), '',
    ...(svg ? ['## The accuracy/speed frontier', '', '![MSE against measured inference speedup](results-structure.svg)', ''] : []),
  ].join('\n');
  writeFileSync('docs/results-structure.md', md);
  console.error('results: wrote docs/results-structure.md');
}
