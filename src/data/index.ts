/**
 * `data`: reading time-series files as Time-Series-Library does (CSV with a date column; UTF-8 or Latin-1),
 * its train / val / test borders and sliding windows (`ForecastDataset`), the scaler fit on the training rows,
 * and the `timeF` calendar features.
 */
export { parseCsv, parseCsvBytes, CsvError, CsvTokenizer, type CsvTable, type CsvOptions } from './csv.ts';
export { decodeText, type DecodedText } from './decode.ts';
export { matchTrainedColumns, type TrainedColumns } from './columns.ts';
export { ForecastDataset, type DatasetOptions, type Batch, type Features } from './forecast-dataset.ts';
export {
  splitBorders, inferKind, fitScaler, applyScaler, rowsNeeded, type DataKind, type Split, type Scaler, type WindowNeed,
} from './dataset.ts';
export { timeFeatures, parseDate, toEpochMs, freqCode, TIME_FEATURE_COUNTS, type CalendarTime } from './time-features.ts';
