/**
 * The `sparsecast` command. For now: `sparsecast train` fits a channel-independent MLP forecaster
 * (seq_len → d_model → pred_len, GELU) on a CSV with the Time-Series-Library splits and scaler, and prints
 * one JSON line with test MSE/MAE on normalised values next to the naive repeat-last baseline.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { engine, tidy } from '../tensor/engine.ts';
import '../tensor/tensor.ts';
import { Rng } from '../tensor/random.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { createJsBackend } from '../backend/js/backend.ts';
import { createWasmBackend } from '../backend/wasm/backend.ts';
import * as op from '../ops/index.ts';
import { backward } from '../autograd/backward.ts';
import { Adam } from '../train/adam.ts';
import { parseCsv } from '../data/csv.ts';
import { applyScaler, fitScaler, inferKind, splitBorders, windows, type WindowSet } from '../data/dataset.ts';
import { parseArgs, numberFlag } from './args.ts';

/** Batch of channel-independent series: inputs [B·C, seq], targets [B·C, pred]. */
function batchOf(w: WindowSet, ids: ArrayLike<number>): { x: Float32Array; y: Float32Array; rows: number } {
  const C = w.cols;
  const rows = ids.length * C;
  const x = new Float32Array(rows * w.seqLen);
  const y = new Float32Array(rows * w.predLen);
  for (let b = 0; b < ids.length; b++) {
    const s = w.start + ids[b]!;
    for (let c = 0; c < C; c++) {
      const r = b * C + c;
      for (let t = 0; t < w.seqLen; t++) x[r * w.seqLen + t] = w.data[(s + t) * C + c]!;
      for (let t = 0; t < w.predLen; t++) y[r * w.predLen + t] = w.data[(s + w.seqLen + t) * C + c]!;
    }
  }
  return { x, y, rows };
}

function linearInit(rng: Rng, out: number, inp: number, name: string, backend: string): Tensor[] {
  const bound = 1 / Math.sqrt(inp);
  const w = op.tensor(rng.uniform(out * inp).map((u) => (2 * u - 1) * bound), [out, inp], { backend });
  const b = op.tensor(rng.uniform(out).map((u) => (2 * u - 1) * bound), [out], { backend });
  w.name = `${name}.weight`;
  b.name = `${name}.bias`;
  for (const t of [w, b]) t.requiresGrad = true;
  return [engine.keep(w), engine.keep(b)];
}

async function train(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const data = args.flags.get('data');
  if (!data) throw new Error('sparsecast train: --data PATH is required');
  const model = args.flags.get('model') ?? 'MLP';
  if (model !== 'MLP') throw new Error(`sparsecast train: --model ${model} is not available yet (available: MLP)`);
  const seqLen = numberFlag(args, 'seq_len', 96, true);
  const predLen = numberFlag(args, 'pred_len', 96, true);
  const hidden = numberFlag(args, 'd_model', 256, true);
  const epochs = numberFlag(args, 'train_epochs', 3, true);
  const batchSize = numberFlag(args, 'batch_size', 32, true);
  const lr = numberFlag(args, 'learning_rate', 1e-3);
  const seed = numberFlag(args, 'seed', 2020, true);
  const maxBatches = numberFlag(args, 'max_train_batches', Infinity, true);
  const backendName = args.flags.get('backend') ?? 'wasm';

  engine.registerBackend(createJsBackend());
  if (backendName === 'wasm') engine.registerBackend(await createWasmBackend());
  engine.useBackend(backendName);

  const table = parseCsv(readFileSync(data, 'utf8'), { file: data });
  const kind = inferKind(data);
  const borders = splitBorders(kind, table.rows, seqLen);
  const scaler = fitScaler(table.values, table.cols, borders.train[0], borders.train[1]);
  const scaled = applyScaler(table.values, table.cols, scaler);
  const sets = {
    train: windows(table, scaled, borders.train, seqLen, 0, predLen),
    val: windows(table, scaled, borders.val, seqLen, 0, predLen),
    test: windows(table, scaled, borders.test, seqLen, 0, predLen),
  };

  const rng = new Rng(seed);
  const [w1, b1] = linearInit(rng, hidden, seqLen, 'fc1', backendName);
  const [w2, b2] = linearInit(rng, predLen, hidden, 'fc2', backendName);
  const params = [w1!, b1!, w2!, b2!];
  const adam = new Adam(params, { lr });
  const forward = (x: Tensor) => op.linear(op.gelu(op.linear(x, w1!, b1)), w2!, b2);

  const evaluate = (set: WindowSet) => {
    let se = 0;
    let ae = 0;
    let naiveSe = 0;
    let n = 0;
    for (let s = 0; s < set.count; s += 256) {
      const ids = Array.from({ length: Math.min(256, set.count - s) }, (_, i) => s + i);
      const { x, y, rows } = batchOf(set, ids);
      const pred = engine.noGrad(() =>
        tidy(() => forward(op.tensor(x, [rows, seqLen])).dataSync() as Float32Array),
      );
      for (let r = 0; r < rows; r++) {
        const last = x[r * seqLen + seqLen - 1]!;
        for (let t = 0; t < predLen; t++) {
          const d = pred[r * predLen + t]! - y[r * predLen + t]!;
          se += d * d;
          ae += Math.abs(d);
          naiveSe += (last - y[r * predLen + t]!) ** 2;
          n++;
        }
      }
    }
    return { mse: se / n, mae: ae / n, naiveMse: naiveSe / n };
  };

  const t0 = performance.now();
  const perEpoch = Math.min(Math.floor(sets.train.count / batchSize), maxBatches);
  let lastLoss = NaN;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const order = rng.permutation(sets.train.count);
    let sum = 0;
    for (let b = 0; b < perEpoch; b++) {
      const { x, y, rows } = batchOf(sets.train, order.subarray(b * batchSize, (b + 1) * batchSize));
      const loss = tidy(() => {
        const l = op.mseLoss(forward(op.tensor(x, [rows, seqLen])), op.tensor(y, [rows, predLen]));
        backward(l);
        adam.step();
        adam.zeroGrad();
        return (l.dataSync() as Float32Array)[0]!;
      });
      if (!Number.isFinite(loss)) throw new Error(`sparsecast train: loss became ${loss} at epoch ${epoch}, step ${b + 1}`);
      sum += loss;
      lastLoss = loss;
      if (process.stderr.isTTY) process.stderr.write(`\repoch ${epoch}/${epochs} step ${b + 1}/${perEpoch} loss ${loss.toFixed(4)}`);
    }
    const val = evaluate(sets.val);
    process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}epoch ${epoch}: train ${(sum / perEpoch).toFixed(4)} val ${val.mse.toFixed(4)}\n`);
  }
  const test = evaluate(sets.test);
  const result = {
    model,
    data: basename(data),
    pred_len: predLen,
    method: 'dense',
    backend: backendName,
    mse: +test.mse.toFixed(6),
    mae: +test.mae.toFixed(6),
    naive_mse: +test.naiveMse.toFixed(6),
    final_train_loss: +lastLoss.toFixed(6),
    params: params.reduce((a, p) => a + p.size, 0),
    epochs_run: epochs,
    train_seconds: +((performance.now() - t0) / 1000).toFixed(2),
  };
  console.log(JSON.stringify(result));
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'train':
      return train(rest);
    case undefined:
    case 'help':
    case '--help':
      console.log('usage: sparsecast train --data PATH [--model MLP] [--seq_len 96] [--pred_len 96] [--d_model 256] [--train_epochs 3] [--batch_size 32] [--learning_rate 1e-3] [--seed 2020] [--backend wasm|js]');
      return;
    default:
      throw new Error(`sparsecast: unknown command '${command}' (try: sparsecast help)`);
  }
}
