/**
 * A Time-Series-Library state dict (PyTorch `model.state_dict()` saved with safetensors' `save_file`) as the
 * weights and masks of one of our models. Nothing loads silently: every key of the model must be in the file
 * and every key of the file must be the model's, each with the model's exact shape, finite, and of a float
 * dtype this reader takes; every problem is listed in one error, with the model flags the file's shapes point
 * to.
 *
 * Dtypes: F32 as is; F64 rounded to F32 (an F64 value beyond F32's range is refused as non-finite); I64 only
 * for BatchNorm's `num_batches_tracked` counter (PyTorch's dtype for it). F16 and BF16 are refused (our
 * safetensors reader does not decode them): save with `.float()` first.
 *
 * Zeros become masks (the PALS reference's layout): the reference masks every parameter of rank ≥ 2 and
 * multiplies it by its 0/1 mask after each step, so a pruned entry is exactly 0.0 (or −0.0) in the saved
 * state dict, while a trained dense weight is practically never exactly zero. The rule here: in every
 * parameter of rank ≥ 2 (the weights our `Masking` masks too, buffers such as `pe` excluded), each exact zero
 * is a pruned entry; a weight with any zero gets a mask (density < 1), one without stays dense. `zeros: 'keep'`
 * turns that off (zeros stay dense values). A file that carries our own `mask.<weight>` tensors (U8 0/1, a run's
 * model.safetensors) gives those masks instead, for those weights (their masked entries set to zero, W ⊙ M).
 *
 * A FEDformer with random Fourier modes is refused (the modes are not in a state dict); `mode_select low` is fine.
 */
import type { SafetensorsFile, SafeTensor } from '../io/safetensors.ts';
import { engine } from '../tensor/engine.ts';
import { Rng } from '../tensor/random.ts';
import { createModel } from '../models/index.ts';
import { TIME_FEATURE_COUNTS } from '../data/time-features.ts';
import type { RunInfo } from './run-forecaster.ts';

export interface TslibImportOptions {
  /** The file's name, for messages. */
  file?: string;
  /** 'mask' (default): exact zeros of rank ≥ 2 parameters become masked entries; 'keep': they stay dense values. */
  zeros?: 'mask' | 'keep';
}

export interface TslibWeights {
  /** Every state-dict tensor of the model (parameters and buffers) as F32, by TSLib key. */
  weights: Map<string, Float32Array>;
  /** Masks of the weights that have pruned entries (absent: dense). */
  masks: Map<string, Uint8Array>;
  /** Density (kept / all) of every masked-layer weight, 1 for a dense one, by key. */
  densities: Record<string, number>;
  /** Keys that were F64 in the file and were rounded to F32. */
  converted: string[];
}

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * Which model flags a mismatched tensor points to: rules by key for the layers whose shape is set by flags (or
 * the data's channel count), each giving the values the file's shape implies.
 */
const SHAPE_HINTS: { key: RegExp; hint: (s: number[]) => string[] }[] = [
  { key: /value_embedding\.tokenConv\.weight$/, hint: (s) => [`--d_model ${s[0]}`, `${s[1]} input channel(s) (the data's columns with --features M/MS, 1 with S)`] },
  { key: /temporal_embedding\.embed\.weight$/, hint: (s) => {
    const freqs = Object.entries(TIME_FEATURE_COUNTS).filter(([, n]) => n === s[1]).map(([f]) => f);
    return [`--d_model ${s[0]}`, `${s[1]} time features${freqs.length ? ` (--freq ${freqs.join(' or ')})` : ''}`];
  } },
  { key: /\.conv1\.weight$/, hint: (s) => [`--d_ff ${s[0]}`, `--d_model ${s[1]}`] },
  { key: /(query|key|value|out)_projection\.weight$/, hint: (s) => [`--d_model ${s[1]}`] },
  { key: /inner_correlation\.weights[12]$/, hint: (s) => [`--n_heads ${s[0]}`, `${s[3]} Fourier modes (--modes, --seq_len)`] },
  { key: /^Linear_(Seasonal|Trend)\.weight$/, hint: (s) => [`--pred_len ${s[0]}`, `--seq_len ${s[1]}`] },
  { key: /^decoder\.projection\.weight$/, hint: (s) => [`${s[0]} output channel(s)`, `--d_model ${s[1]}`] },
  { key: /^lstm\.weight_hh_l0$/, hint: (s) => [`--d_model ${s[1]}`] },
  { key: /position_embedding\.pe$/, hint: (s) => [`--d_model ${s[2]}`, ...(s[1] !== 5000 ? [`a position table of ${s[1]} rows (TSLib's max_len is 5000)`] : [])] },
];

/** Layer counts a file implies, from the indices in its keys (e.g. encoder.attn_layers.2.… → --e_layers 3). */
function layerHints(keys: Iterable<string>): string[] {
  const max = { e: -1, d: -1 };
  for (const k of keys) {
    const e = /^encoder\.attn_layers\.(\d+)\./.exec(k);
    if (e) max.e = Math.max(max.e, Number(e[1]));
    const d = /^decoder\.layers\.(\d+)\./.exec(k);
    if (d) max.d = Math.max(max.d, Number(d[1]));
  }
  return [...(max.e >= 0 ? [`--e_layers ${max.e + 1}`] : []), ...(max.d >= 0 ? [`--d_layers ${max.d + 1}`] : [])];
}

function list(keys: string[], limit = 12): string {
  return keys.length <= limit ? keys.join(', ') : `${keys.slice(0, limit).join(', ')}, … (${keys.length} in all)`;
}

/** The tensor's values as F32, or a problem text. */
function asF32(name: string, t: SafeTensor): Float32Array | string {
  if (t.dtype === 'F32') return t.data as Float32Array;
  if (t.dtype === 'F64') return Float32Array.from(t.data as Float64Array);
  // BatchNorm's step counter is int64 in PyTorch; we keep it as F32 like every state-dict tensor.
  if (t.dtype === 'I64' && name.endsWith('num_batches_tracked')) return Float32Array.from(t.data as BigInt64Array, (v) => Number(v));
  return `'${name}' is ${t.dtype}; weights must be F32 (or F64, rounded to F32)`;
}

/**
 * Check a TSLib state dict against the model `info` describes (built here from its config and seed, as
 * `RunForecaster.fromWeights` builds it) and return its weights and the masks its zeros make. Throws one Error
 * naming the file and listing every missing key, unexpected key, shape mismatch, bad dtype and non-finite
 * value, with the model flags the file's shapes suggest.
 */
export function tslibWeights(file: SafetensorsFile, info: RunInfo, opts: TslibImportOptions = {}): TslibWeights {
  const where = opts.file ?? 'state dict';
  // TSLib's FEDformer draws its random Fourier modes with numpy at construction; they are not in the state dict,
  // so the trained model's modes cannot be rebuilt and its forecasts would be silently wrong.
  if (info.model === 'FEDformer' && (info.cfg.modeSelect ?? 'random') !== 'low') {
    throw new Error(`${where}: a FEDformer with mode_select 'random' cannot be imported: TSLib draws its Fourier modes with numpy when it builds the model and does not save them in the state dict; only a FEDformer trained with --mode_select low (modes 0 … modes−1) can be rebuilt`);
  }
  const model = engine.noGrad(() => createModel(info.model, new Rng(info.seed), info.cfg));
  let expected: Map<string, number[]>;
  let maskable: Set<string>;
  try {
    expected = new Map([...model.stateDict()].map(([k, t]) => [k, [...t.shape]] as const));
    maskable = new Set(model.namedParameters().filter(([, p]) => p.rank >= 2).map(([k]) => k));
  } finally {
    model.dispose();
  }
  const missing = [...expected.keys()].filter((k) => !file.tensors.has(k));
  const unexpected: string[] = [];
  const problems: string[] = [];
  const hints = new Set<string>();
  const weights = new Map<string, Float32Array>();
  const givenMasks = new Map<string, Uint8Array>();
  const converted: string[] = [];
  for (const [k, t] of file.tensors) {
    if (k.startsWith('mask.') && maskable.has(k.slice(5))) {
      const want = expected.get(k.slice(5))!;
      if (t.dtype !== 'U8') problems.push(`'${k}' is ${t.dtype}; a mask is U8`);
      else if (shapeText(t.shape) !== shapeText(want)) problems.push(`'${k}' has shape ${shapeText(t.shape)}; its weight has ${shapeText(want)}`);
      else {
        const bad = (t.data as Uint8Array).findIndex((v) => v !== 0 && v !== 1);
        if (bad >= 0) problems.push(`'${k}' holds ${t.data[bad]} at index ${bad}; a mask entry is 0 or 1`);
        else givenMasks.set(k.slice(5), t.data as Uint8Array);
      }
      continue;
    }
    const want = expected.get(k);
    if (!want) {
      unexpected.push(k);
      continue;
    }
    if (shapeText(t.shape) !== shapeText(want)) {
      problems.push(`'${k}' has shape ${shapeText(t.shape)} in the file; the model's is ${shapeText(want)}`);
      for (const h of SHAPE_HINTS) if (h.key.test(k)) for (const text of h.hint(t.shape)) hints.add(text);
      continue;
    }
    const v = asF32(k, t);
    if (typeof v === 'string') {
      problems.push(v);
      continue;
    }
    if (t.dtype === 'F64') converted.push(k);
    const bad = v.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) {
      problems.push(`'${k}' holds a non-finite value (${t.data[bad]}) at index ${bad}`);
      continue;
    }
    weights.set(k, v);
  }
  if (missing.length || unexpected.length) for (const h of layerHints(file.tensors.keys())) hints.add(h);
  if (missing.length || unexpected.length || problems.length) {
    const parts = [
      ...(missing.length ? [`missing keys (${missing.length}): ${list(missing)}`] : []),
      ...(unexpected.length ? [`unexpected keys (${unexpected.length}): ${list(unexpected)}`] : []),
      // A wrong width mismatches nearly every tensor: the first lines and the count say enough.
      ...problems.slice(0, 16),
      ...(problems.length > 16 ? [`… and ${problems.length - 16} more (${problems.length} tensors in all)`] : []),
    ];
    const flags = hints.size ? `\n  the file's shapes suggest: ${[...hints].join('; ')}` : '';
    throw new Error(`${where}: does not fit ${info.model} (${describeConfig(info)}):\n  ${parts.join('\n  ')}${flags}`);
  }
  const masks = new Map<string, Uint8Array>();
  const densities: Record<string, number> = {};
  for (const k of maskable) {
    const w = weights.get(k)!;
    let mask = givenMasks.get(k);
    // A given mask rules its weight as the reference's W ⊙ M does: a masked entry is zero, whatever the file held
    // there (dense and CSR execution then agree).
    if (mask && mask.some((m, i) => m === 0 && w[i] !== 0)) weights.set(k, Float32Array.from(w, (x, i) => (mask![i] ? x : 0)));
    if (!mask && opts.zeros !== 'keep' && w.includes(0)) mask = Uint8Array.from(w, (x) => (x === 0 ? 0 : 1));
    let kept = w.length;
    if (mask) {
      kept = mask.reduce((a, b) => a + b, 0);
      if (kept < w.length) masks.set(k, mask);
    }
    densities[k] = kept / w.length;
  }
  return { weights, masks, densities, converted };
}

/** The config values a state dict's shapes depend on, for the error message. */
function describeConfig(info: RunInfo): string {
  const c = info.cfg;
  return `d_model ${c.dModel}, n_heads ${c.nHeads}, e_layers ${c.eLayers}, d_layers ${c.dLayers}, d_ff ${c.dFf}, seq_len ${c.seqLen}, label_len ${c.labelLen}, pred_len ${c.predLen}, ${c.encIn} channel(s), freq ${c.freq}`;
}
