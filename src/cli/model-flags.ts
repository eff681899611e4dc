/**
 * The model flags that only some forecasters read (every model reads the common sizes and the protocol's flags).
 * TSLib's run.py accepts every flag for every model and its own scripts pass some to models that ignore them
 * (`--factor 3` to the Transformer), so `sparsecast train` accepts them as TSLib does — with a warning naming the
 * models that read the flag, because the run trains exactly what it would without it.
 */
export const MODEL_FLAGS: Readonly<Record<string, readonly string[]>> = {
  factor: ['Informer', 'Autoformer'],
  moving_avg: ['Autoformer', 'FEDformer', 'DLinear'],
  distil: ['Informer'],
  modes: ['FEDformer'],
  mode_select: ['FEDformer'],
  p_hidden_dims: ['NSTransformer'],
  p_hidden_layers: ['NSTransformer'],
};

/** A warning for each model-specific flag among `given` that `model` does not read. */
export function modelFlagWarnings(model: string, given: Iterable<string>): string[] {
  const out: string[] = [];
  for (const f of given) {
    const readers = MODEL_FLAGS[f];
    if (readers && !readers.includes(model)) out.push(`--${f} is read by ${readers.join(', ')} only; --model ${model} trains the same without it`);
  }
  return out;
}
