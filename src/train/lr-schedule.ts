/**
 * Time-Series-Library's adjust_learning_rate, called after epoch `epoch` (1-based): `type1` halves every
 * epoch (lr · 0.5^(epoch−1)), `type2` follows a fixed table; epochs not in the table keep the current rate.
 */
export type LrAdjust = 'type1' | 'type2' | 'constant';

const TYPE2: Record<number, number> = { 2: 5e-5, 4: 1e-5, 6: 5e-6, 8: 1e-6, 10: 5e-7, 15: 1e-7, 20: 5e-8 };

/** The learning rate to use after `epoch`, or null when it stays unchanged. */
export function adjustedLearningRate(kind: LrAdjust, baseLr: number, epoch: number): number | null {
  if (kind === 'type1') return baseLr * 0.5 ** (epoch - 1);
  if (kind === 'type2') return TYPE2[epoch] ?? null;
  return null;
}
