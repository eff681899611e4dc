/**
 * `sparsecast export --checkpoint DIR --out model.sc [--csr_threshold 0.5]`: one self-contained model file
 * (layout in src/io/model-file.ts) from a training run's --out folder: weights, CSR for masked layers sparser than
 * the threshold, scaler statistics, time-feature settings. The run is read by the library's loader (loadRun:
 * config.json and model.safetensors, checksum, finite weights and 0/1 masks verified) and written by its
 * exportModel, which reads the file back and binds it to a fresh model before the command reports success —
 * the same path as `io.exportModel` in code and the demo's Export button. Runs on the js backend, as before, so
 * the file does not depend on which backend this machine has.
 * Prints one JSON line: {out, bytes, model, dense, csr, bsr, csr_expanded, sparse_dense, encodings, stored_values, params,
 * csr_threshold}.
 */
import { numberFlag } from './args.ts';
import { parseCommandArgs } from './flags.ts';
import { EXPORT } from './commands.ts';
import { DEFAULT_CSR_THRESHOLD } from '../io/model-file.ts';
import { setBackend } from '../backend/set-backend.ts';
import { loadRun } from '../run/load-run.ts';
import { exportModel, type ExportSummary } from '../run/export-model.ts';
import { writeFileAtomic } from '../train/checkpoint.ts';
import { checkOutFile } from './run-records.ts';

/** Build the export of a run folder; returns the file bytes and a summary. */
export async function exportRun(dir: string, opts: { csrThreshold?: number } = {}): Promise<{ bytes: Uint8Array; summary: ExportSummary }> {
  await setBackend('js');
  const run = loadRun(dir, { sparseExecution: false });
  try {
    return await exportModel(run, { csrThreshold: opts.csrThreshold ?? DEFAULT_CSR_THRESHOLD });
  } finally {
    run.dispose();
  }
}

export async function exportCommand(argv: string[]): Promise<void> {
  const args = parseCommandArgs(EXPORT, argv);
  const dir = args.flags.get('checkpoint')!;
  const out = args.flags.get('out')!;
  const csrThreshold = numberFlag(args, 'csr_threshold', DEFAULT_CSR_THRESHOLD);
  checkOutFile('export', 'out', out, dir);
  const { bytes, summary } = await exportRun(dir, { csrThreshold });
  writeFileAtomic(out, bytes); // a failure mid-write leaves any earlier file whole
  console.log(JSON.stringify({ out, ...summary }));
}
