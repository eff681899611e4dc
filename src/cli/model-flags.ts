/**
 * Which forecasters read each model flag (the protocol's flags — seq_len, label_len, pred_len, features, … —
 * are read by every model; so is --freq, which DLinear's network ignores but which dates every model's forecast,
 * src/data/future-times.ts). Read off the model sources (src/models/*.ts) and checked against them by
 * test/model-flags.test.ts, which builds each model with and without each flag's value. TSLib's run.py accepts
 * every flag for every model and its own scripts pass some to models that ignore them (`--factor 3` to the
 * Transformer, `--d_model 512` to DLinear), so `sparsecast train` accepts them as TSLib does — with a warning
 * naming the models that read the flag, because the run trains exactly what it would without it.
 */
const ENCODER_DECODERS = ['Transformer', 'Informer', 'Autoformer', 'FEDformer', 'NSTransformer'] as const;

export const MODEL_FLAGS: Readonly<Record<string, readonly string[]>> = {
  // The LSTM's hidden size is d_model; DLinear is two Linear(seq_len → pred_len) layers, with no width.
  d_model: [...ENCODER_DECODERS, 'LSTM'],
  // Autoformer's Auto-Correlation averages its correlation over heads and channels and shares the delays across
  // heads, and its projections are d_model wide for any head count that divides d_model (the only ones accepted:
  // train, fit and the model file refuse the others for every model).
  n_heads: ['Transformer', 'Informer', 'FEDformer', 'NSTransformer'],
  e_layers: ENCODER_DECODERS,
  d_layers: ENCODER_DECODERS,
  d_ff: ENCODER_DECODERS,
  dropout: ENCODER_DECODERS,
  activation: ENCODER_DECODERS,
  factor: ['Informer', 'Autoformer'],
  moving_avg: ['Autoformer', 'FEDformer', 'DLinear'],
  distil: ['Informer'],
  modes: ['FEDformer'],
  mode_select: ['FEDformer'],
  p_hidden_dims: ['NSTransformer'],
  p_hidden_layers: ['NSTransformer'],
};

/** Whether `model` reads the model flag `flag` (a flag outside MODEL_FLAGS is read by every model). */
export function modelReads(model: string, flag: string): boolean {
  return MODEL_FLAGS[flag]?.includes(model) ?? true;
}

/**
 * A warning for each model flag among `given` (the flags the user named; a --preset's sizes are not among them)
 * that `model` does not read.
 */
export function modelFlagWarnings(model: string, given: Iterable<string>): string[] {
  const out: string[] = [];
  for (const f of given) {
    if (!modelReads(model, f)) out.push(`--${f} is read by ${MODEL_FLAGS[f]!.join(', ')} only; --model ${model} trains the same without it`);
  }
  return out;
}
