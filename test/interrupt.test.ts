// Ctrl-C and SIGTERM (src/cli/interrupt.ts): the real CLI, signalled mid-training, saves a checkpoint, exits
// 130 / 143 without a result and prints the exact --resume command, which ends bit-identical to a run left
// alone; a second signal exits without saving; eval exits 130; a sweep passes the signal to its runs. In process: a
// stop inside an evaluation pass saves the state of the last step, so resuming redoes the epoch end. Also the
// two guards of issue 13 part 8: forecast() refuses to return non-finite numbers, backward() refuses a graph
// an earlier backward() released.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../src/tensor/tensor.ts';
import { engine } from '../src/tensor/engine.ts';
import { Rng } from '../src/tensor/random.ts';
import { createWasmBackendSync } from '../src/backend/wasm/backend.ts';
import { parseCsv } from '../src/data/csv.ts';
import { ForecastDataset } from '../src/data/forecast-dataset.ts';
import { Transformer } from '../src/models/transformer.ts';
import { defaultConfig } from '../src/models/config.ts';
import { Trainer, type TrainResult } from '../src/train/trainer.ts';
import { loadCheckpoint } from '../src/train/checkpoint.ts';
import { backward } from '../src/autograd/backward.ts';
import { tensor } from '../src/ops/creation.ts';
import { mul } from '../src/ops/binary.ts';
import { sum } from '../src/ops/reduce.ts';
import { loadForecaster } from '../src/infer/index.ts';
import { resumeCommandLine, shellQuote, watchInterrupts } from '../src/cli/interrupt.ts';
import { yieldToEventLoop } from '../src/backend/yield.ts';
import { syntheticModelFile } from './fixtures/infer/synthetic-model.ts';
import { BIN } from './shared/cli.ts';

const dirs: string[] = [];
const tmp = (name: string) => {
  const d = mkdtempSync(join(tmpdir(), `sc-int-${name}-`));
  dirs.push(d);
  return d;
};
// The first 2000 rows of ETTh1 as a custom data set (70/10/20 split): evaluation passes of a few batches keep
// each run to seconds.
const SMALL_CSV = join(tmp('data'), 'head.csv');
writeFileSync(SMALL_CSV, `${readFileSync('data/ETTh1.csv', 'utf8').split('\n').slice(0, 2001).join('\n')}\n`);
const MODEL = ['--data', SMALL_CSV, '--seq_len', '48', '--label_len', '24', '--pred_len', '24', '--d_model', '16', '--n_heads', '2', '--e_layers', '1', '--d_ff', '32'];
const TRAIN = ['train', ...MODEL, '--train_epochs', '2', '--max_train_batches', '30'];

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from the first signal sent to the exit. */
  afterSignalMs: number;
}

/**
 * Run the CLI; once `when` says so (on its stderr so far; checked on every chunk and every 20 ms) send
 * `signals` to it back to back.
 */
function cli(args: string[], signals: NodeJS.Signals[] = [], when: (stderr: string) => boolean = () => true): Promise<Exit> {
  return new Promise((resolve) => {
    const child: ChildProcess = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sentAt = 0;
    const check = () => {
      if (sentAt || !signals.length || !when(stderr)) return;
      sentAt = performance.now();
      for (const s of signals) child.kill(s);
    };
    const timer = setInterval(check, 20);
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => {
      stderr += d;
      check();
    });
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      resolve({ code, signal, stdout, stderr, afterSignalMs: sentAt ? performance.now() - sentAt : NaN });
    });
  });
}

/** The command line printed after "Continue the run with:", run through the shell. */
function runPrinted(command: string): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr, afterSignalMs: NaN }));
  });
}

function printedResume(stderr: string): string {
  const lines = stderr.split('\n');
  const i = lines.findIndex((l) => l === 'Continue the run with:');
  expect(i, stderr).toBeGreaterThanOrEqual(0);
  return lines[i + 1]!.trim();
}

const training = (stderr: string) => /epoch 1\/2 step \d+\/30/.test(stderr);

describe('Ctrl-C / SIGTERM in the CLI', () => {
  const full = tmp('full');
  let baseline: Promise<Exit>;
  beforeAll(() => {
    baseline = cli([...TRAIN, '--out', full]);
  });
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${signal} mid-training: checkpoint, exit ${code}, no result, and the printed --resume ends bit-identical`, async () => {
      const out = tmp(signal);
      const r = await cli([...TRAIN, '--out', out], [signal], training);
      expect(r.code, r.stderr).toBe(code);
      expect(r.afterSignalMs).toBeLessThan(5000);
      expect(r.stdout).toBe(''); // no JSON result line: the run did not finish
      expect(r.stderr).toMatch(new RegExp(`interrupt: ${signal}: checkpoint saved after step \\d+`));
      expect(existsSync(join(out, 'checkpoint.safetensors'))).toBe(true);
      expect(existsSync(join(out, 'result.json'))).toBe(false);
      expect(existsSync(join(out, 'model.safetensors'))).toBe(false);
      const step = (loadCheckpoint(join(out, 'checkpoint.safetensors')).state as { step: number }).step;
      expect(step).toBeGreaterThanOrEqual(1);
      expect(step).toBeLessThan(60);
      const command = printedResume(r.stderr);
      expect(command).toBe(`${shellQuote(process.execPath)} ${shellQuote(BIN)} ${[...TRAIN, '--out', out].join(' ')} --resume`);

      const resumed = await runPrinted(command);
      expect(resumed.code, resumed.stderr).toBe(0);
      const a = await baseline;
      expect(a.code, a.stderr).toBe(0);
      expect(JSON.parse(resumed.stdout.trim()).mse).toBe(JSON.parse(a.stdout.trim()).mse);
      expect(Buffer.compare(readFileSync(join(out, 'model.safetensors')), readFileSync(join(full, 'model.safetensors')))).toBe(0);
      const losses = (dir: string) => readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => {
        const { seconds: _s, ...rest } = JSON.parse(l) as Record<string, number>;
        return rest;
      });
      expect(losses(out)).toEqual(losses(full));
    }, 90_000);
  }

  it('a second SIGINT exits without saving: no checkpoint, exit 130', async () => {
    const out = tmp('twice');
    // Steps of a second or more, so the two signals need not be sent back to back (the kernel may merge those
    // into one, which then saves a checkpoint as one Ctrl-C does). Here both land inside step 2, 250 ms apart, and
    // the trainer sees them together at that step's end: the first asks for a checkpoint, the second must exit
    // before it is written. A second signal that is ignored lets the checkpoint be saved, and it says so.
    const slow = ['train', '--data', SMALL_CSV, '--seq_len', '96', '--label_len', '48', '--pred_len', '96', '--d_model', '256', '--n_heads', '4',
      '--e_layers', '2', '--d_ff', '1024', '--train_epochs', '1', '--max_train_batches', '10', '--out', out];
    const r = await new Promise<Exit>((resolve) => {
      const child = spawn(process.execPath, [BIN, ...slow], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let sentAt = 0;
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => {
        stderr += d;
        if (sentAt || !/step 1\/10/.test(stderr)) return;
        sentAt = performance.now();
        // Past the yield after step 1: well inside step 2.
        setTimeout(() => child.kill('SIGINT'), 150);
        setTimeout(() => child.kill('SIGINT'), 400);
      });
      child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr, afterSignalMs: performance.now() - sentAt }));
    });
    expect(r.code, r.stderr).toBe(130);
    // Every step prints a line (10 steps: one per tenth). Both signals came during step 2.
    const lines = r.stderr.split('\n').filter((l) => /^epoch 1\/1 step \d+\/10 |^interrupt: /.test(l)).map((l) => l.replace(/ loss .*/, ''));
    expect(lines, r.stderr).toEqual([
      'epoch 1/1 step 1/10',
      'epoch 1/1 step 2/10',
      'interrupt: SIGINT: stopping at the end of this step to save a checkpoint (SIGINT again exits at once)',
      'interrupt: second SIGINT, exiting now without waiting',
    ]);
    expect(existsSync(join(out, 'checkpoint.safetensors'))).toBe(false);
    expect(r.stdout).toBe('');
    expect(existsSync(join(out, 'result.json'))).toBe(false);
  }, 120_000);

  it('without --out: exit 130, saying that nothing was saved', async () => {
    const r = await cli(TRAIN, ['SIGINT'], training);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/Without --out there is no checkpoint: nothing was saved/);
    expect(r.stdout).toBe('');
  }, 60_000);

  it('eval: SIGINT exits 130 with a message and no result line', async () => {
    const a = await baseline;
    expect(a.code, a.stderr).toBe(0);
    const r = await cli(['eval', '--checkpoint', full], ['SIGINT'], (s) => s.includes('eval: scoring'));
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/interrupt: SIGINT: sparsecast eval stopped/);
    expect(r.stdout).toBe('');
  }, 60_000);

  it('predict: SIGTERM exits 143 and writes no forecast file', async () => {
    const a = await baseline;
    expect(a.code, a.stderr).toBe(0);
    const csv = join(full, 'forecast.csv');
    const r = await cli(['predict', '--checkpoint', full, '--data', SMALL_CSV, '--out', csv], ['SIGTERM'], (s) => s.includes('predict: forecasting'));
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toMatch(/interrupt: SIGTERM: sparsecast predict stopped/);
    expect(existsSync(csv)).toBe(false);
  }, 60_000);

  it('sweep: passes the signal to its runs, each saves a checkpoint; exit 130 with their --resume commands', async () => {
    const out = tmp('sweep');
    const runs = ['lambda1.05', 'lambda1.1'].map((n) => join(out, n, 'checkpoint.safetensors'));
    const r = await cli(['sweep', ...MODEL, '--train_epochs', '1', '--max_train_batches', '40', '--checkpoint_every', '2', '--method', 'pals', '--grid', 'lambda=1.05,1.1', '--jobs', '2', '--out', out],
      ['SIGINT'], () => runs.every((p) => existsSync(p)));
    expect(r.code, r.stderr).toBe(130);
    expect(r.stdout).toBe('');
    expect(existsSync(join(out, 'sweep.md'))).toBe(false);
    const lines = r.stderr.split('\n').filter((l) => / lambda1\.(05|1): .* --resume$/.test(l));
    expect(lines, r.stderr).toHaveLength(2);
    // The runs are listed in the order they stopped; continue the first listed alone.
    const first = lines[0]!.match(/^\s*(lambda[\d.]+): /)![1]!;
    const other = first === 'lambda1.05' ? 'lambda1.1' : 'lambda1.05';
    const resumed = await runPrinted(lines[0]!.replace(/^\s*lambda[\d.]+: /, ''));
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout.trim()).epochs_run).toBe(1);

    // The whole sweep continues with --resume: the run finished above keeps its result, the other one continues
    // from its checkpoint, and the selection and table are written.
    const whole = r.stderr.split('\n').find((l) => l.startsWith('Continue the whole sweep: '));
    expect(whole, r.stderr).toMatch(/ sweep .* --resume$/);
    const cont = await runPrinted(whole!.replace('Continue the whole sweep: ', ''));
    expect(cont.code, cont.stderr).toBe(0);
    expect(cont.stderr).toContain(`sweep: ${first} finished before (same flags and data); its result is reused`);
    expect(cont.stderr).toContain(`sweep: continuing ${other}`);
    const rows = readFileSync(join(out, 'sweep.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { lambda: string; mse: number });
    expect(rows.map((x) => x.lambda)).toEqual(['1.05', '1.1']);
    expect(rows.find((x) => `lambda${x.lambda}` === first)!.mse).toBe(JSON.parse(resumed.stdout.trim()).mse);
    // Again: every run is reused, with the same table.
    const again = await runPrinted(whole!.replace('Continue the whole sweep: ', ''));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr.match(/its result is reused/g)).toHaveLength(2);
    expect(readFileSync(join(out, 'sweep.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).mse)).toEqual(rows.map((x) => x.mse));
    // With another flag, a finished run's result does not stand for the new one: refused, naming the difference.
    const changed = await runPrinted(whole!.replace('Continue the whole sweep: ', '').replace(/ --resume$/, ' --learning_rate 0.0002 --resume'));
    expect(changed.code).toBe(1);
    expect(changed.stderr).toMatch(/sparsecast sweep --resume: .*lambda1\.05 holds a finished run of other flags or data, so its result cannot stand for this one: [\s\S]*--learning_rate \(learningRate\): 0\.0001 → 0\.0002/);
    expect(readFileSync(join(out, 'sweep.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).mse)).toEqual(rows.map((x) => x.mse));
  }, 180_000);

  it('a run whose stdout and stderr close (| head, a dead parent) trains on and writes its files; it died with EPIPE, saving nothing', async () => {
    const out = join(tmp('closed'), 'run');
    let seen = '';
    const exit = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [BIN, ...TRAIN, '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
      // At the first training step's progress line, the reader goes away: both pipes closed, as `| head -1`
      // closes them, with the run under way.
      const onData = (d: Buffer) => {
        seen += d.toString();
        if (!/step \d+\/\d+/.test(seen)) return;
        child.stderr!.off('data', onData);
        child.stdout!.destroy();
        child.stderr!.destroy();
      };
      child.stderr!.on('data', onData);
      child.on('close', resolve);
    });
    expect(exit, seen).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')).epochs_run).toBe(2);
    expect(existsSync(join(out, 'checkpoint.safetensors'))).toBe(true);
  }, 120_000);
});

describe('yieldToEventLoop', () => {
  it('lets pending macrotasks run (setImmediate; the MessageChannel fallback of browsers and Deno)', async () => {
    const g = globalThis as { setImmediate?: unknown };
    const saved = g.setImmediate;
    for (const without of [false, true]) {
      if (without) g.setImmediate = undefined;
      try {
        let ran = false;
        const channel = new MessageChannel(); // a macrotask queued before the yield
        channel.port1.onmessage = () => {
          ran = true;
          channel.port1.close();
        };
        channel.port2.postMessage(0);
        await Promise.resolve(); // a microtask turn alone does not run it
        expect(ran).toBe(false);
        for (let i = 0; i < 5 && !ran; i++) await yieldToEventLoop();
        expect(ran, without ? 'MessageChannel fallback' : 'setImmediate').toBe(true);
      } finally {
        g.setImmediate = saved;
      }
    }
  });
});

describe('watchInterrupts', () => {
  it('the first signal is recorded; a second one exits at once with its code; SIGTERM is 143', () => {
    const exits: number[] = [];
    const firsts: string[] = [];
    const w = watchInterrupts({ exit: (c) => exits.push(c), onFirst: (s) => firsts.push(s) });
    const before = process.listenerCount('SIGTERM');
    try {
      expect(w.signal).toBe(null);
      process.emit('SIGTERM', 'SIGTERM');
      expect([w.signal, w.exitCode, firsts, exits]).toEqual(['SIGTERM', 143, ['SIGTERM'], []]);
      process.emit('SIGINT', 'SIGINT');
      expect(exits).toEqual([130]);
    } finally {
      w.dispose();
    }
    expect(process.listenerCount('SIGTERM')).toBe(before - 1);
  });
});

describe('resume command line', () => {
  it('repeats node, its flags, the script and every argument, quoted for the shell, with --resume once', () => {
    expect(resumeCommandLine(['/usr/bin/node', '/x/cli.js', 'train', '--out', "it's here"], ['--import', 'tsx']))
      .toBe(`/usr/bin/node --import tsx /x/cli.js train --out 'it'\\''s here' --resume`);
    expect(resumeCommandLine(['node', 'cli.js', 'train', '--resume', '--out', 'a'], [])).toBe('node cli.js train --resume --out a');
  });
});

describe('Trainer: a stop inside an evaluation pass', () => {
  engine.registerBackend(createWasmBackendSync());
  engine.useBackend('wasm');
  const ds = new ForecastDataset(parseCsv(readFileSync(SMALL_CSV, 'utf8')), { kind: 'custom', features: 'M', target: 'OT', seqLen: 48, labelLen: 24, predLen: 24, freq: 'h', file: SMALL_CSV });

  /** A 2-epoch run of 4 steps each; `stopAt`: the shouldStop poll (1-based) that first answers true. */
  async function run(dir: string, stopAt: number, resume = false): Promise<{ r: TrainResult; polls: number }> {
    const rng = new Rng(5);
    const model = new Transformer(rng, defaultConfig(7, { seqLen: 48, labelLen: 24, predLen: 24, dModel: 16, nHeads: 2, eLayers: 1, dLayers: 1, dFf: 32 }));
    let polls = 0;
    const tr = new Trainer(model, ds, rng, {
      epochs: 2, patience: 3, batchSize: 32, learningRate: 1e-3, lradj: 'type1', seed: 5, maxTrainBatches: 4, epochTest: false,
      checkpointPath: join(dir, 'ck.safetensors'), bestPath: join(dir, 'best.safetensors'), resume,
      shouldStop: () => ++polls >= stopAt,
    });
    try {
      return { r: await tr.fit(), polls };
    } finally {
      tr.dispose();
      model.dispose();
    }
  }
  const params = (dir: string) => {
    const ck = loadCheckpoint(join(dir, 'ck.safetensors'));
    return [...ck.tensors].filter(([k]) => k.startsWith('model.') || k.startsWith('adam.')).map(([k, t]) => [k, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)] as const);
  };
  // As checkpoints store them (JSON: a skipped test loss, NaN, reads back as null).
  const noSeconds = (r: TrainResult) => JSON.parse(JSON.stringify(r.history.map(({ seconds: _s, ...rest }) => rest))) as unknown;

  let whole: { r: TrainResult; polls: number };
  let wholeDir = '';
  beforeAll(async () => {
    wholeDir = tmp('whole');
    whole = await run(wholeDir, Infinity);
  }, 120_000);

  it('inside the epoch-end validation: the checkpoint is the last step, and resuming redoes the epoch end bit-identically', async () => {
    const dir = tmp('val');
    // Polls 1-4 follow the first epoch's steps; poll 6 is before the validation pass's second batch.
    const a = await run(dir, 6);
    expect(a.r.interrupted).toBe(true);
    expect(a.r.history).toHaveLength(0);
    const st = loadCheckpoint(join(dir, 'ck.safetensors')).state as { step: number; batch: number; epoch: number; history: unknown[] };
    expect([st.epoch, st.batch, st.step, st.history.length]).toEqual([1, 4, 4, 0]);
    const b = await run(dir, Infinity, true);
    expect(b.r.interrupted).toBe(false);
    expect(noSeconds(b.r)).toEqual(noSeconds(whole.r));
    expect(b.r.test).toEqual(whole.r.test);
    expect(params(dir)).toEqual(params(wholeDir));
  }, 120_000);

  it('inside the final test: interrupted, the epoch-end checkpoint stands, and resuming runs only the final test', async () => {
    const dir = tmp('final');
    const a = await run(dir, whole.polls - 1);
    expect(a.r.interrupted).toBe(true);
    expect(Number.isNaN(a.r.test.mse)).toBe(true);
    expect(a.r.history).toHaveLength(2);
    expect(params(dir)).toEqual(params(wholeDir));
    const b = await run(dir, Infinity, true);
    expect(b.r.interrupted).toBe(false);
    expect(b.r.test).toEqual(whole.r.test);
    expect(noSeconds(b.r)).toEqual(noSeconds(whole.r));
  }, 120_000);
});

describe('backward() twice', () => {
  it('refuses a graph that an earlier backward() released, and names the way out', () => {
    engine.useBackend('wasm');
    const w = engine.keep(tensor(new Float32Array([1, 2, 3]), [3]));
    w.requiresGrad = true;
    const loss = sum(mul(w, w));
    backward(loss);
    expect(Array.from(w.grad!.dataSync())).toEqual([2, 4, 6]);
    expect(() => backward(loss)).toThrow(/backward: this graph was already used by an earlier backward\(\).*retainGraph/);
    expect(Array.from(w.grad!.dataSync())).toEqual([2, 4, 6]); // untouched
    // retainGraph keeps the graph: a second pass adds the gradient again.
    w.grad!.dispose();
    w.grad = null;
    const again = sum(mul(w, w));
    backward(again, { retainGraph: true });
    backward(again);
    expect(Array.from(w.grad!.dataSync())).toEqual([4, 8, 12]);
    w.grad!.dispose();
    w.dispose();
  });
});

describe('forecast() never returns non-finite numbers', () => {
  it('names the first non-finite output and the input most likely to blame, or the input that overflows', async () => {
    const f = await loadForecaster(syntheticModelFile(), { backend: 'js' });
    const values = Float32Array.from({ length: 16 * 3 }, (_, k) => Math.sin(k));
    const dates = Array.from({ length: 16 }, (_, k) => new Date(Date.UTC(2020, 0, 1, k)).toISOString().replace('.000Z', 'Z'));
    expect(f.forecast({ values, dates }).every(Number.isFinite)).toBe(true);
    const huge = values.slice();
    huge[5 * 3 + 2] = 3e38; // row 5, column c (std 2): finite once normalised, but the model overflows
    expect(() => f.forecast({ values: huge, dates })).toThrow(/^forecast: the output is NaN at row \d+, column [abc] of the forecast; the most extreme input is window\.values\[17\] \(row 5, column c\)/);
    const over = values.slice();
    over[5 * 3] = 3e38; // column a (std 0.5): the normalised value overflows float32
    expect(() => f.forecast({ values: over, dates })).toThrow(/^forecast: window\.values\[15\] \(row 5, column a\) = 3\.\d+e\+38 overflows float32 once normalised/);
    const inf = values.slice();
    inf[7] = Infinity;
    expect(() => f.forecast({ values: inf, dates })).toThrow(/^forecast: window\.values\[7\] \(row 2, column b\) = Infinity is not finite/);
    f.dispose();
  });

  it('loadForecaster refuses an unknown option (wasm_module fell back to compiling the embedded bytes, which edge runtimes forbid)', async () => {
    await expect(loadForecaster(syntheticModelFile(), { wasm_module: {} } as never)).rejects.toThrow('loadForecaster: unknown option wasm_module (wasmModule, backend)');
  });

  it('checks wasmModule on every call, also once the wasm kernels are loaded (a later wrong value was accepted silently)', async () => {
    const f = await loadForecaster(syntheticModelFile());
    f.dispose();
    const wasm = readFileSync(new URL('../build/kernels-infer.wasm', import.meta.url));
    await expect(loadForecaster(syntheticModelFile(), { wasmModule: wasm as never })).rejects.toThrow('loadForecaster: wasmModule must be a WebAssembly.Module');
    await expect(loadForecaster(syntheticModelFile(), { wasmModule: null as never })).rejects.toThrow('loadForecaster: wasmModule must be a WebAssembly.Module');
    const g = await loadForecaster(syntheticModelFile(), { wasmModule: await WebAssembly.compile(wasm) });
    g.dispose();
  });

  it('names a date given as a Date object as such (its message read as if ISO 8601 were refused)', async () => {
    const f = await loadForecaster(syntheticModelFile(), { backend: 'js' });
    const values = Float32Array.from({ length: 16 * 3 }, (_, k) => Math.sin(k));
    const dates: unknown[] = Array.from({ length: 16 }, (_, k) => new Date(Date.UTC(2020, 0, 1, k)).toISOString());
    dates[3] = new Date(Date.UTC(2020, 0, 1, 3));
    expect(() => f.forecast({ values, dates: dates as string[] })).toThrow('forecast: window.dates[3] is not a string (object) like 2016-07-01 00:00:00');
    f.dispose();
  });
});
