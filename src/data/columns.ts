/**
 * A trained model's columns found by name in a new file (eval / predict on data the model was not trained
 * on). The model's input channel c is whatever column was c-th in training; taking a file's columns by
 * position would feed a reordered file's columns to the wrong channels and return a confident, wrong forecast.
 * So the file's columns are matched to the trained names (config.json `scaler.columns`) and the table is
 * rebuilt in the trained order.
 *
 * Which columns a file must have follows what TSLib feeds the model: features M and MS use every column but
 * `date`, so the file must hold exactly the trained set (an extra column would widen the input, which a
 * trained model cannot take — refused, listing it); features S uses only the target, so other columns are
 * allowed and ignored (the trained config records only the target then).
 */
import type { CsvTable } from './csv.ts';
import type { Features } from './forecast-dataset.ts';

export interface TrainedColumns {
  /** Model channel order, as config.json's scaler.columns. */
  columns: readonly string[];
  features: Features;
}

/** The table with its value columns in the trained order; throws listing missing and unexpected names. */
export function matchTrainedColumns(table: CsvTable, trained: TrainedColumns, file: string): CsvTable {
  const names = table.header.slice(1);
  const index = new Map(names.map((n, i) => [n, i] as const));
  const missing = trained.columns.filter((c) => !index.has(c));
  const wanted = new Set(trained.columns);
  const unexpected = trained.features === 'S' ? [] : names.filter((n) => !wanted.has(n));
  if (missing.length || unexpected.length) {
    const parts = [
      ...(missing.length ? [`missing ${missing.map((n) => `'${n}'`).join(', ')}`] : []),
      ...(unexpected.length ? [`unexpected ${unexpected.map((n) => `'${n}'`).join(', ')}`] : []),
    ];
    const rule = trained.features === 'S' ? 'features S needs the target column' : `features ${trained.features} uses every column but date, so the file must have exactly these`;
    throw new Error(`${file}: columns do not match the model's (${rule}: ${trained.columns.join(', ')}): ${parts.join('; ')}`);
  }
  const from = trained.columns.map((c) => index.get(c)!);
  const cols = from.length;
  const values = new Float64Array(table.rows * cols);
  for (let r = 0; r < table.rows; r++) {
    for (let c = 0; c < cols; c++) values[r * cols + c] = table.values[r * table.cols + from[c]!]!;
  }
  return { ...table, header: ['date', ...trained.columns], values, cols };
}
