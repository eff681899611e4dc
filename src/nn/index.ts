/**
 * `nn`: the layers the forecasters are built from, in PyTorch's shape (state-dict names match
 * Time-Series-Library's). Constructors that initialise weights take a seeded `Rng`, so a model is the same
 * bits on every run and runtime.
 */
export { Module, ModuleList } from './module.ts';
export { Linear, type LinearExecutor } from './linear.ts';
export { LayerNorm } from './layer-norm.ts';
export { Dropout } from './dropout.ts';
export { Conv1d, type Conv1dConfig } from './conv1d.ts';
export { BatchNorm1d, ConvLayer, DistilEncoder } from './distil-conv.ts';
export { Lstm } from './lstm.ts';
export { uniformInit, normalInit } from './init.ts';
export { FullAttention, AttentionLayer, causalMaskTensor, type InnerAttention } from './attention.ts';
export { ProbAttention, ProbAttentionLayer } from './prob-attention.ts';
export { DSAttention, DSAttentionLayer, NSEncoder, NSEncoderLayer, NSDecoder, NSDecoderLayer } from './ds-attention.ts';
// One AutoCorrelationLayer serves Autoformer's Auto-Correlation and FEDformer's Fourier blocks; the FEDformer
// name is kept as an alias of it.
export { AutoCorrelation, AutoCorrelationLayer, AutoCorrelationLayer as FourierCorrelationLayer, type InnerCorrelation } from './autocorrelation.ts';
export { FourierBlock, FourierCrossAttention, frequencyModes, type FourierOptions, type ModeSelect } from './fourier-blocks.ts';
export { Encoder, EncoderLayer, Decoder, DecoderLayer, type Activation } from './transformer-layers.ts';
export { AutoformerEncoder, AutoformerEncoderLayer, AutoformerDecoder, AutoformerDecoderLayer, MyLayernorm } from './autoformer-layers.ts';
export { DataEmbedding, TokenEmbedding, PositionalEmbedding, TimeFeatureEmbedding } from './embedding.ts';
export { MovingAvg, SeriesDecomp } from './series-decomp.ts';
export { Projector, ReluMlp } from './projector.ts';
