/**
 * The forecast-vs-truth plots `sparsecast train --out` writes (forecast-0.svg …) and `sparsecast report`
 * inlines: the target channel of three test windows — history, truth and forecast — in the data's raw units
 * (the scaler undone, as the demo draws them and as `predict` writes them), with the column's quantity and unit
 * on the y axis and the sampling interval on the x axis. The model's errors stay stated where they are
 * computed, on normalised values (result.json, the loss curve).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ForecastDataset } from '../data/forecast-dataset.ts';
import { columnAxisLabel } from '../data/column-units.ts';
import { intervalText, samplingInterval } from '../data/sampling-interval.ts';
import type { Trainer } from '../train/trainer.ts';
import { lineChart } from '../plot/line-chart.ts';

/** "time step (1 step = 1 h)", from the data's dates; plain "time step" when they do not tell. */
export function timeAxisLabel(ds: ForecastDataset): string {
  const ms = samplingInterval(ds.dates);
  return ms === null ? 'time step' : `time step (1 step = ${intervalText(ms)})`;
}

export async function writeForecastPlots(trainer: Trainer, ds: ForecastDataset, out: string, model: string): Promise<void> {
  const n = ds.count('test');
  const picks = [0, Math.floor(n / 3), Math.floor((2 * n) / 3)];
  const { seqLen, labelLen, predLen } = ds.opts;
  const C = ds.channels;
  const column = ds.columns[C - 1]!;
  const batch = ds.batch('test', picks);
  const pred = await trainer.predict(batch);
  // The target is the last channel (features M, S and MS alike); undo its scaler.
  const raw = (v: number) => v * ds.scaler.std[C - 1]! + ds.scaler.mean[C - 1]!;
  const xLabel = timeAxisLabel(ds);
  const yLabel = columnAxisLabel(ds.opts.file, column);
  picks.forEach((id, k) => {
    const hist = Array.from({ length: seqLen }, (_, t) => raw(batch.x[(k * seqLen + t) * C + C - 1]!));
    const truth = Array.from({ length: predLen }, (_, t) => raw(batch.y[(k * (labelLen + predLen) + labelLen + t) * C + C - 1]!));
    const fc = Array.from({ length: predLen }, (_, t) => raw(pred[(k * predLen + t) * C + C - 1]!));
    const xs = Array.from({ length: predLen }, (_, t) => seqLen + t);
    writeFileSync(join(out, `forecast-${k}.svg`), lineChart(`${model}: test window ${id}, ${column}`, [
      { name: 'history', values: hist, color: '#555' },
      { name: 'truth', values: truth, x: xs, color: '#2ca02c' },
      { name: 'forecast', values: fc, x: xs, color: '#d62728', dashed: true },
    ], { xLabel, yLabel }));
  });
}
