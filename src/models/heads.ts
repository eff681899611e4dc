/**
 * Whether a model splits d_model into n_heads attention heads (so d_model must divide by n_heads): every
 * encoder-decoder here; DLinear and LSTM have no heads and read neither flag. Internal (not in the public
 * `models` namespace): the flag checks of train, import, fit and the model file share it.
 */
export function hasHeads(model: string): boolean {
  return model !== 'DLinear' && model !== 'LSTM';
}
