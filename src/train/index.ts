/**
 * `train`: Adam, Time-Series-Library's training loop (`Trainer`: epochs, validation, early stopping, the
 * learning-rate schedule, checkpoints and exact resume), and `fit`, the whole run in one call.
 */
export { fit, type FitOptions, type FitResult } from './fit.ts';
export { Trainer, NonFiniteLossError, type TrainOptions, type TrainResult, type EpochLog } from './trainer.ts';
export { Adam, type AdamOptions } from './adam.ts';
export { EarlyStopping } from './early-stopping.ts';
export { adjustedLearningRate, type LrAdjust } from './lr-schedule.ts';
export { MetricAccumulator, type Metrics } from './metrics.ts';
export { naiveRepeatLast } from './baseline.ts';
export { saveCheckpoint, loadCheckpoint, type CheckpointData } from './checkpoint.ts';
