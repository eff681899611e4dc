/**
 * What a column measures, for axis labels. The benchmark CSVs carry no units, so they come from what each data
 * set's source documents: ETDataset (Zhou et al. 2021) describes OT as the transformers' oil temperature in °C
 * and the six load columns without a unit; the exchange-rate set (Lai et al. 2018) holds daily exchange rates,
 * ratios without a unit. A column whose name ends in "(unit)", as weather.csv's do ("T (degC)"), names its own.
 * Anything else is labelled as the file's own units rather than guessed.
 */

interface ColumnMeaning {
  quantity: string;
  /** null: the source gives none. */
  unit: string | null;
}

const ETT_LOADS: Record<string, string> = {
  HUFL: 'high useful load', HULL: 'high useless load', MUFL: 'middle useful load',
  MULL: 'middle useless load', LUFL: 'low useful load', LULL: 'low useless load',
};

function known(file: string, column: string): ColumnMeaning | null {
  const name = file.split(/[\\/]/).pop()!.toLowerCase();
  if (/^ett[hm]\d*\.csv$/.test(name)) {
    if (column === 'OT') return { quantity: 'oil temperature', unit: '°C' };
    if (ETT_LOADS[column]) return { quantity: ETT_LOADS[column]!, unit: null };
  }
  if (name === 'exchange_rate.csv') return { quantity: 'exchange rate', unit: null };
  return null;
}

/** "OT: oil temperature (°C)", "HUFL: high useful load (unit not given by the data set)", "x (units of data.csv)". */
export function columnAxisLabel(file: string, column: string): string {
  const own = column.match(/\(([^()]+)\)\s*$/);
  if (own) return `${column.slice(0, own.index).trim()} (${own[1]!.replace(/^degC$/, '°C')})`;
  const k = known(file, column);
  if (k) return `${column}: ${k.quantity} (${k.unit ?? 'unit not given by the data set'})`;
  return `${column} (units of ${file.split(/[\\/]/).pop()})`;
}
