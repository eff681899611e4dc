/**
 * What every forecasting model is: a Module whose forward takes Time-Series-Library's four inputs. It lives
 * with the models (not the trainer) so the model layer does not depend on the training layer.
 */
import type { Tensor } from '../tensor/tensor.ts';
import type { Module } from '../nn/module.ts';

export interface Forecaster extends Module {
  /**
   * @param xEnc encoder input [B, seq_len, C] (normalised values)
   * @param xMarkEnc its time features [B, seq_len, F], or null
   * @param xDec decoder input [B, label_len + pred_len, C]: the label_len known steps, then zeros
   * @param xMarkDec its time features [B, label_len + pred_len, F], or null
   * @returns [B, label_len + pred_len or pred_len, C]; the last pred_len steps are the forecast
   */
  forward(xEnc: Tensor, xMarkEnc: Tensor | null, xDec: Tensor, xMarkDec: Tensor | null): Tensor;
}
