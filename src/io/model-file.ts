/**
 * The exported model file (`sparsecast export` → `model.sc`): everything a forecast needs in ONE file.
 *
 * Layout — a safetensors container (see safetensors.ts: 8-byte little-endian header length, JSON header,
 * data), with:
 *
 * - `__metadata__` (strings only, as safetensors requires):
 *   - `format`: `"sparsecast-model"`, `format_version`: `"2"` (this writer; `"1"` files are read too);
 *   - `config`: a JSON document (`ModelConfig` below): model name, hyper-parameters (`cfg`, TSLib names in
 *     camelCase), features / target, scaler statistics and column order, time-feature settings
 *     (`timeF` encoding, frequency code, feature count), model options the constructor cannot re-derive
 *     (FEDformer's drawn frequency indices), the sparsecast version that wrote it, the CSR threshold, and
 *     `sparse`: `{ <weight name>: { encoding, shape, block? } }` for every weight stored sparse (version 1:
 *     `csr`: `{ <weight name>: <dense shape> }`, every one of them CSR);
 *   - `crc32`: CRC-32 (IEEE) of the whole file, computed with these 8 hex digits set to `00000000`, so any
 *     flipped byte — header, config or weights — is refused.
 * - tensors, under the model's state-dict names (Time-Series-Library keys):
 *   - dense weights: `<name>` F32 with the parameter's shape;
 *   - masked weights (rank ≥ 2, with a mask) in the smallest exact encoding among dense, CSR, bitmask, fan_in
 *     and block, as parts `<name>.<encoding>.<part>` — the layouts, byte formulas and the rule are in
 *     sparse-encoding.ts. With the CSR threshold at 0 every weight is stored dense (the dense twin);
 *   - buffers only where they differ from what the model's constructor makes (the sinusoidal position tables
 *     `…position_embedding.pe` are left out and rebuilt); a shared parameter (FEDformer's Fourier weights)
 *     appears once, under its first state-dict key.
 * How a sparse weight runs is the loader's choice (src/infer/core.ts), not the file's: below the CSR threshold
 * (default 0.5 density) through the CSR kernel, at or above it expanded to dense, as the dense GEMM is faster there.
 * Version 2 changed the layout (encodings other than CSR, `sparse` for `csr`); a version-1 file is a version-2
 * file whose sparse weights are all CSR, and loads as one.
 *
 * `readModelFile` checks the container (header length, JSON, every entry's dtype, shape and byte range, no
 * overlap or gap), the format and version, the CRC, every config field's presence, type and range (and
 * their consistency: scaler length = channels, label_len ≤ seq_len, d_model divisible by n_heads, a size
 * bound against the stored tensors), every weight (F32, finite) and every sparse weight: its parts (dtypes,
 * ranks, lengths, bit counts against value counts, padding bits: sparse-encoding.ts), then the CSR it decodes
 * to (row_ptr from 0 non-decreasing to nnz, column indices < cols and increasing within each row). Whatever is
 * wrong is named in an Error starting with `model file:`. Whether the tensors fit the model the config builds
 * (names, shapes) is checked where the model is built (`bindModelFile` in src/infer/core.ts), also with
 * `model file:` errors.
 */
import { readSafetensors, writeSafetensors, type SafeArray, type SafeDType } from './safetensors.ts';
import { crc32 } from './crc32.ts';
import {
  SPARSE_ENCODINGS, chooseEncoding, decodeSparse, encodeSparse, encodingCosts, indexWidth,
  type CsrWeight, type SparseEncoding, type SparseEntry, type WeightEncoding,
} from './sparse-encoding.ts';
import { TIME_FEATURE_COUNTS } from '../data/time-features.ts';
import type { ForecastConfig } from '../models/config.ts';

export const MODEL_FORMAT = 'sparsecast-model';
export const MODEL_FORMAT_VERSION = 2;
/** The sparsecast version written into exported files (kept equal to package.json's by a test). */
export const SPARSECAST_VERSION = '0.1.0';
/** Sparse weights below this density run through the CSR kernel (`--csr_threshold`); 0 writes every weight dense. */
export const DEFAULT_CSR_THRESHOLD = 0.5;
/**
 * Upper bound on the elements a file may describe (dense tensors plus the dense shapes of CSR weights): 2^26
 * (256 MiB of f32). Keeps a forged shape or config from making the loader allocate without bound.
 */
export const MAX_MODEL_ELEMENTS = 2 ** 26;

export const MODEL_NAMES = ['Transformer', 'Informer', 'Autoformer', 'FEDformer', 'NSTransformer', 'DLinear', 'LSTM'] as const;
export type ExportedModelName = (typeof MODEL_NAMES)[number];
/** `timeF` feature counts per frequency code (the one table, in data/time-features.ts). */
export const TIME_FEATURE_COUNT = TIME_FEATURE_COUNTS;

/** The model hyper-parameters a file carries: exactly the models' config. */
export type ModelHyperParams = ForecastConfig;

export interface ModelConfig {
  format: typeof MODEL_FORMAT;
  formatVersion: number;
  sparsecast: string;
  model: ExportedModelName;
  cfg: ModelHyperParams;
  features: 'M' | 'S' | 'MS';
  target: string;
  scaler: { mean: number[]; std: number[]; columns: string[] };
  timeFeatures: { encoding: 'timeF'; freq: string; count: number };
  /** FEDformer: the frequency indices drawn at construction (the constructor gets them back). */
  modelOptions?: { encoderIndex?: number[]; decoderIndex?: number[]; crossIndexQ?: number[]; crossIndexKv?: number[] };
  csrThreshold: number;
  /** Weight name → encoding and dense shape, for every weight stored sparse (a version-1 file's `csr`, as CSR). */
  sparse: Record<string, SparseEntry>;
}

export type { CsrWeight, SparseEncoding, SparseEntry, WeightEncoding };

export interface ModelFile {
  config: ModelConfig;
  /** Dense tensors by name (parameters stored dense, and buffers). */
  dense: Map<string, { shape: number[]; data: Float32Array }>;
  /** Sparse weights, whatever their encoding, decoded to CSR. */
  csr: Map<string, CsrWeight>;
}

export interface WeightInput {
  name: string;
  shape: number[];
  data: Float32Array;
  /** The layer's 0/1 mask (same size), for masked layers. */
  mask?: Uint8Array;
  /** Store it in this encoding instead of the smallest (it must apply to the mask; a sparse one needs a mask). */
  encoding?: WeightEncoding;
  /** B of a forced `block` encoding (else the largest B the mask is made of). */
  block?: number;
}

/** What `writeModelFile` needs besides the weights (format fields, csr and threshold are filled in). */
export type ModelConfigInput = Omit<ModelConfig, 'format' | 'formatVersion' | 'sparse' | 'csrThreshold' | 'sparsecast'>;

// ---- CRC-32 (the shared implementation in crc32.ts) ----------------------------------------------

const CRC_KEY = new TextEncoder().encode('"crc32":"');

/** Position of the 8 hex digits of the one `"crc32":"…"` in the header, or an explanation. */
function findCrcField(bytes: Uint8Array, headerEnd: number): number | string {
  let found = -1;
  outer: for (let i = 8; i + CRC_KEY.length + 9 <= headerEnd; i++) {
    for (let j = 0; j < CRC_KEY.length; j++) if (bytes[i + j] !== CRC_KEY[j]) continue outer;
    if (found >= 0) return 'the header holds more than one "crc32" field';
    found = i + CRC_KEY.length;
  }
  if (found < 0) return 'the header has no "crc32" field';
  if (bytes[found + 8] !== 0x22) return 'the "crc32" field is not 8 hex digits';
  return found;
}

const ZEROS8 = new TextEncoder().encode('00000000');

function fileCrc(bytes: Uint8Array, at: number): number {
  return crc32([bytes.subarray(0, at), ZEROS8, bytes.subarray(at + 8)]);
}

/** Recompute and store the CRC of a model file in place (the writer's last step; tests use it to forge files). */
export function sealModelFile(bytes: Uint8Array): Uint8Array {
  const headerEnd = 8 + Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const at = findCrcField(bytes, Math.min(headerEnd, bytes.length));
  if (typeof at === 'string') throw new Error(`sealModelFile: ${at}`);
  const hex = fileCrc(bytes, at).toString(16).padStart(8, '0');
  for (let i = 0; i < 8; i++) bytes[at + i] = hex.charCodeAt(i);
  return bytes;
}

// ---- writing ------------------------------------------------------------------------------------------

/** The narrowest index types (as the file stores them) for a CSR matrix with `cols` columns and `nnz` entries. */
export function csrIndexTypes(cols: number, nnz: number): { col: SafeDType; rowPtr: SafeDType } {
  const name = (w: number): SafeDType => (w === 1 ? 'U8' : w === 2 ? 'U16' : 'I32');
  return { col: name(indexWidth(Math.max(cols - 1, 0))), rowPtr: name(indexWidth(nnz)) };
}

const PART_NAME = /\.(csr|bitmask|fan_in|block)\.\w+$/;

/**
 * Serialise a model: every masked weight (rank ≥ 2) in its smallest exact encoding (sparse-encoding.ts; below
 * `csrThreshold` density a sparse one, so that it runs as CSR) unless `csrThreshold` is 0 (every weight dense:
 * the dense twin) or the input forces one; other weights dense F32.
 * Returns the sealed file bytes.
 */
export function writeModelFile(config: ModelConfigInput, weights: WeightInput[], opts: { csrThreshold?: number } = {}): Uint8Array {
  const threshold = opts.csrThreshold ?? DEFAULT_CSR_THRESHOLD;
  if (!(threshold >= 0 && threshold <= 1)) throw new Error(`writeModelFile: csrThreshold must be in [0, 1], got ${threshold}`);
  const tensors = new Map<string, { shape: number[]; data: SafeArray }>();
  const sparse: Record<string, SparseEntry> = {};
  for (const w of weights) {
    const size = w.shape.reduce((a, b) => a * b, 1);
    if (w.data.length !== size) throw new Error(`writeModelFile: '${w.name}' has ${w.data.length} values for shape [${w.shape.join(', ')}]`);
    if (PART_NAME.test(w.name)) throw new Error(`writeModelFile: tensor name '${w.name}' collides with the sparse parts' naming scheme`);
    if (w.mask && w.mask.length !== size) throw new Error(`writeModelFile: the mask of '${w.name}' has ${w.mask.length} entries for ${size} weights`);
    const maskable = w.mask !== undefined && w.shape.length >= 2 && size > 0;
    if (w.encoding !== undefined && w.encoding !== 'dense' && !maskable) {
      throw new Error(`writeModelFile: '${w.name}' cannot be stored as ${w.encoding}: only a masked weight of rank ≥ 2 is stored sparse`);
    }
    let ones = 0;
    for (let i = 0; maskable && i < size; i++) ones += w.mask![i]!;
    const rule = maskable && threshold > 0 && w.encoding === undefined ? chooseEncoding(w.shape, w.mask!, w.name.length, ones < threshold * size) : null;
    const choice = w.encoding ?? rule?.encoding ?? 'dense';
    if (choice === 'dense') {
      tensors.set(w.name, { shape: w.shape, data: w.data });
      continue;
    }
    // B: the rule's, the input's, or the largest the mask is made of.
    const block = choice !== 'block' ? undefined
      : rule?.block ?? w.block ?? encodingCosts(w.shape, w.mask!, 0).find((e) => e.encoding === 'block')?.block;
    const { entry, tensors: parts } = encodeSparse(w.name, w.shape, w.data, w.mask!, choice, block);
    sparse[w.name] = entry;
    for (const [k, t] of parts) tensors.set(k, t);
  }
  const full: ModelConfig = {
    format: MODEL_FORMAT, formatVersion: MODEL_FORMAT_VERSION, sparsecast: SPARSECAST_VERSION,
    ...config, csrThreshold: threshold, sparse,
  };
  const bytes = writeSafetensors(tensors, {
    format: MODEL_FORMAT, format_version: String(MODEL_FORMAT_VERSION), config: JSON.stringify(full), crc32: '00000000',
  });
  return sealModelFile(bytes);
}

// ---- reading ------------------------------------------------------------------------------------------

/** Throws the reader's error, `model file: <what>` (exported as modelFileError: binding a file to a model fails alike). */
function fail(what: string): never {
  throw new Error(`model file: ${what}`);
}
export { fail as modelFileError };

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function int(o: Obj, key: string, lo: number, hi: number, where = 'config.cfg'): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(`${where}.${key} must be an integer, got ${JSON.stringify(v) ?? 'nothing'}`);
  if (v < lo || v > hi) fail(`${where}.${key} = ${v} is outside [${lo}, ${hi}]`);
  return v;
}

function num(o: Obj, key: string, lo: number, hi: number, where = 'config.cfg'): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${where}.${key} must be a finite number, got ${JSON.stringify(v) ?? 'nothing'}`);
  if (v < lo || v > hi) fail(`${where}.${key} = ${v} is outside [${lo}, ${hi}]`);
  return v;
}

function str(o: Obj, key: string, where = 'config'): string {
  const v = o[key];
  if (typeof v !== 'string') fail(`${where}.${key} must be a string, got ${JSON.stringify(v) ?? 'nothing'}`);
  return v;
}

function oneOf<T extends string>(o: Obj, key: string, allowed: readonly T[], where = 'config'): T {
  const v = o[key];
  if (typeof v !== 'string' || !allowed.includes(v as T)) fail(`${where}.${key} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v) ?? 'nothing'}`);
  return v as T;
}

function intArray(v: unknown, where: string, lo: number, hi: number, maxLen: number): number[] {
  if (!Array.isArray(v)) fail(`${where} must be an array of integers`);
  if (v.length > maxLen) fail(`${where} has ${v.length} entries (at most ${maxLen})`);
  v.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < lo || x > hi) fail(`${where}[${i}] must be an integer in [${lo}, ${hi}], got ${JSON.stringify(x)}`);
  });
  return v as number[];
}

const MAX_LEN = 100_000;
const MAX_CHANNELS = 10_000;
/** Models with the sinusoidal position table (5000 rows in TSLib) — the ones with attention heads, too. */
const POSITIONAL = new Set<string>(['Transformer', 'Informer', 'Autoformer', 'FEDformer', 'NSTransformer']);

function validateCfg(raw: unknown, model: ExportedModelName): ModelHyperParams {
  if (!isObj(raw)) fail('config.cfg must be an object');
  const seqLen = int(raw, 'seqLen', 1, MAX_LEN);
  const labelLen = int(raw, 'labelLen', 0, seqLen);
  const predLen = int(raw, 'predLen', 1, MAX_LEN);
  if (POSITIONAL.has(model) && (seqLen > 5000 || labelLen + predLen > 5000)) {
    fail(`config.cfg: ${model} embeds at most 5000 positions; seq_len ${seqLen}, label_len + pred_len ${labelLen + predLen}`);
  }
  const encIn = int(raw, 'encIn', 1, MAX_CHANNELS);
  const decIn = int(raw, 'decIn', 1, MAX_CHANNELS);
  const cOut = int(raw, 'cOut', 1, MAX_CHANNELS);
  const dModel = int(raw, 'dModel', 1, 16384);
  const nHeads = int(raw, 'nHeads', 1, dModel);
  if (POSITIONAL.has(model) && dModel % nHeads !== 0) fail(`config.cfg.dModel ${dModel} is not divisible by nHeads ${nHeads}`);
  const cfg: ModelHyperParams = {
    seqLen, labelLen, predLen, encIn, decIn, cOut, dModel, nHeads,
    eLayers: int(raw, 'eLayers', 0, 64),
    dLayers: int(raw, 'dLayers', 0, 64),
    dFf: int(raw, 'dFf', 1, 1 << 20),
    dropout: num(raw, 'dropout', 0, 1),
    factor: int(raw, 'factor', 1, 1000),
    activation: oneOf(raw, 'activation', ['gelu', 'relu'] as const, 'config.cfg'),
    freq: oneOf(raw, 'freq', Object.keys(TIME_FEATURE_COUNT), 'config.cfg'),
    movingAvg: int(raw, 'movingAvg', 1, MAX_LEN),
    distil: (() => {
      if (typeof raw.distil !== 'boolean') fail(`config.cfg.distil must be a boolean, got ${JSON.stringify(raw.distil) ?? 'nothing'}`);
      return raw.distil;
    })(),
  };
  if (raw.modes !== undefined) cfg.modes = int(raw, 'modes', 0, MAX_LEN);
  if (raw.modeSelect !== undefined) cfg.modeSelect = oneOf(raw, 'modeSelect', ['random', 'low'] as const, 'config.cfg');
  if (raw.pHiddenDims !== undefined) cfg.pHiddenDims = intArray(raw.pHiddenDims, 'config.cfg.pHiddenDims', 1, 1 << 16, 64);
  if (raw.pHiddenLayers !== undefined) cfg.pHiddenLayers = int(raw, 'pHiddenLayers', 0, 64);
  if (model === 'NSTransformer' && (cfg.pHiddenDims ?? [128, 128]).length < (cfg.pHiddenLayers ?? 2)) {
    fail(`config.cfg.pHiddenDims has ${(cfg.pHiddenDims ?? []).length} entries for pHiddenLayers ${cfg.pHiddenLayers}`);
  }
  return cfg;
}

/**
 * A lower bound on the parameters the config's model has (its dominant weight matrices). A file that
 * stores fewer elements than this cannot fit the model, and is refused before anything is built.
 */
function minParams(model: ExportedModelName, c: ModelHyperParams): number {
  switch (model) {
    case 'DLinear':
      return 2 * c.seqLen * c.predLen;
    case 'LSTM':
      return 4 * c.dModel * c.dModel + c.dModel * c.predLen * c.cOut;
    default:
      return c.eLayers * (4 * c.dModel * c.dModel + 2 * c.dModel * c.dFf) + c.dLayers * (8 * c.dModel * c.dModel + 2 * c.dModel * c.dFf)
        + 3 * c.encIn * c.dModel;
  }
}

function validateConfig(text: string, version: string): ModelConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    fail(`the config metadata is not JSON (${(e as Error).message})`);
  }
  if (!isObj(raw)) fail('the config metadata is not a JSON object');
  if (raw.format !== MODEL_FORMAT) fail(`config.format must be '${MODEL_FORMAT}', got ${JSON.stringify(raw.format) ?? 'nothing'}`);
  // The config's version is the metadata's (checked there to be 1 or 2): a range of one value.
  const formatVersion = int(raw, 'formatVersion', +version, +version, 'config');
  const sparsecast = str(raw, 'sparsecast');
  const model = oneOf(raw, 'model', MODEL_NAMES);
  const cfg = validateCfg(raw.cfg, model);
  const features = oneOf(raw, 'features', ['M', 'S', 'MS'] as const);
  const target = str(raw, 'target');
  const sc = raw.scaler;
  if (!isObj(sc)) fail('config.scaler must be an object with mean, std and columns');
  const vec = (key: string): number[] => {
    const v = sc[key];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) fail(`config.scaler.${key} must be an array of finite numbers`);
    return v as number[];
  };
  const mean = vec('mean');
  const std = vec('std');
  const columns = sc.columns;
  if (!Array.isArray(columns) || columns.some((x) => typeof x !== 'string')) fail('config.scaler.columns must be an array of strings');
  if (mean.length !== cfg.encIn || std.length !== cfg.encIn || columns.length !== cfg.encIn) {
    fail(`config.scaler has ${mean.length} means, ${std.length} stds and ${columns.length} columns; the model has ${cfg.encIn} input channels`);
  }
  if (cfg.decIn !== cfg.encIn || cfg.cOut !== cfg.encIn) fail(`config.cfg: encIn ${cfg.encIn}, decIn ${cfg.decIn} and cOut ${cfg.cOut} must be equal`);
  std.forEach((s, i) => {
    if (!(s > 0)) fail(`config.scaler.std[${i}] = ${s} must be positive`);
  });
  const tf = raw.timeFeatures;
  if (!isObj(tf)) fail('config.timeFeatures must be an object');
  oneOf(tf, 'encoding', ['timeF'] as const, 'config.timeFeatures');
  if (tf.freq !== cfg.freq) fail(`config.timeFeatures.freq ${JSON.stringify(tf.freq)} differs from config.cfg.freq '${cfg.freq}'`);
  const count = int(tf, 'count', 1, 6, 'config.timeFeatures');
  if (count !== TIME_FEATURE_COUNT[cfg.freq]) fail(`config.timeFeatures.count ${count} does not match freq '${cfg.freq}' (${TIME_FEATURE_COUNT[cfg.freq]})`);
  const csrThreshold = num(raw, 'csrThreshold', 0, 1, 'config');
  // Version 1 lists CSR weights as `csr: {name: shape}`; version 2 every sparse weight as `sparse: {name: entry}`.
  const v1 = formatVersion === 1;
  const key = v1 ? 'csr' : 'sparse';
  const listed = raw[key];
  if (!isObj(listed)) fail(`config.${key} must be an object`);
  const sparse: Record<string, SparseEntry> = {};
  for (const [name, v] of Object.entries(listed)) {
    const where = `config.${key}['${name}']`;
    // (Object(): a non-object entry fails on its missing encoding below, with its name.)
    const e = v1 ? { encoding: 'csr', shape: v } : Object(v) as Obj;
    const encoding = oneOf(e, 'encoding', SPARSE_ENCODINGS, where);
    const shape = intArray(e.shape, where, 0, MAX_MODEL_ELEMENTS, 8);
    if (shape.length < 2) fail(`${where} must have rank ≥ 2, got [${shape.join(', ')}]`);
    sparse[name] = { encoding, shape, block: encoding === 'block' ? int(e, 'block', 2, 65536, where) : undefined };
  }
  const out: ModelConfig = {
    format: MODEL_FORMAT, formatVersion, sparsecast, model, cfg, features, target,
    scaler: { mean, std, columns: columns as string[] },
    timeFeatures: { encoding: 'timeF', freq: cfg.freq, count },
    csrThreshold, sparse,
  };
  if (raw.modelOptions !== undefined) {
    const mo = raw.modelOptions;
    if (!isObj(mo)) fail('config.modelOptions must be an object');
    const opts: NonNullable<ModelConfig['modelOptions']> = {};
    for (const key of ['encoderIndex', 'decoderIndex', 'crossIndexQ', 'crossIndexKv'] as const) {
      if (mo[key] !== undefined) opts[key] = intArray(mo[key], `config.modelOptions.${key}`, 0, MAX_LEN, 4096);
    }
    out.modelOptions = opts;
  }
  return out;
}

function checkFinite(name: string, a: Float32Array): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]!)) fail(`tensor '${name}' holds a non-finite value (${a[i]}) at ${i}`);
  }
}

/** Parse and validate a model file (see the module comment); throws `model file: …` errors. */
export function readModelFile(bytes: Uint8Array): ModelFile {
  if (!(bytes instanceof Uint8Array)) fail('expected the file bytes as a Uint8Array');
  const st = readSafetensors(bytes, 'model file');
  const meta = st.metadata;
  if (meta.format !== MODEL_FORMAT) fail(`not a sparsecast model (metadata format ${JSON.stringify(meta.format) ?? 'missing'}, expected '${MODEL_FORMAT}')`);
  const version = meta.format_version;
  if (version !== '1' && version !== String(MODEL_FORMAT_VERSION)) fail(`format version ${JSON.stringify(version) ?? 'missing'} is not supported (this reader knows 1 to ${MODEL_FORMAT_VERSION})`);
  const crc = meta.crc32;
  if (typeof crc !== 'string' || !/^[0-9a-f]{8}$/.test(crc)) fail(`metadata crc32 must be 8 lowercase hex digits, got ${JSON.stringify(crc) ?? 'nothing'}`);
  const headerEnd = 8 + Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const at = findCrcField(bytes, headerEnd);
  if (typeof at === 'string') fail(at);
  const actual = fileCrc(bytes, at).toString(16).padStart(8, '0');
  if (actual !== crc) fail(`checksum mismatch: the file's CRC-32 is ${actual}, its header says ${crc} (the file is corrupt or was edited)`);
  if (typeof meta.config !== 'string') fail('metadata has no config');
  const config = validateConfig(meta.config, version);

  const dense = new Map<string, { shape: number[]; data: Float32Array }>();
  const csr = new Map<string, CsrWeight>();
  let elements = 0;
  /** Add n elements to the running total, refusing more than MAX_MODEL_ELEMENTS (a forged shape allocates nothing). */
  const count = (n: number) => {
    elements += n;
    if (!(elements <= MAX_MODEL_ELEMENTS)) fail(`the tensors describe more than ${MAX_MODEL_ELEMENTS} elements`);
  };
  const parts = new Set<string>();
  for (const [name, entry] of Object.entries(config.sparse)) {
    const { shape, encoding } = entry;
    count(shape.reduce((a, b) => a * b, 1));
    // The decoder asks for each part its encoding has (sparse-encoding.ts); each is claimed as it is read.
    const c = decodeSparse(name, entry, (p) => {
      const part = `${name}.${encoding}.${p}`;
      parts.add(part);
      return st.tensors.get(part) ?? fail(`config lists '${name}' as ${encoding} but tensor '${part}' is missing`);
    }, fail);
    const { rows, cols, nnz, rowPtr, colIdx } = c;
    if (colIdx.length !== nnz) fail(`'${name}': ${colIdx.length} column indices for ${nnz} values`);
    if (rowPtr.length !== rows + 1 || rowPtr[0] !== 0 || rowPtr[rows] !== nnz) {
      fail(`'${name}': row_ptr must hold ${rows + 1} entries (rows + 1) from 0 to nnz = ${nnz}, got ${rowPtr.length} from ${rowPtr[0]} to ${rowPtr[rowPtr.length - 1]}`);
    }
    for (let r = 0; r < rows; r++) {
      const a = rowPtr[r]!;
      const b = rowPtr[r + 1]!;
      if (!(a <= b && b <= nnz)) fail(`'${name}': row_ptr decreases or passes nnz = ${nnz} at row ${r} (${a} → ${b})`);
      for (let p = a; p < b; p++) {
        const col = colIdx[p]!;
        if (col < 0 || col >= cols) fail(`'${name}': column index ${col} at entry ${p} (row ${r}) is outside [0, ${cols})`);
        if (p > a && col <= colIdx[p - 1]!) fail(`'${name}': column indices of row ${r} do not increase at entry ${p} (${colIdx[p - 1]} then ${col})`);
      }
    }
    checkFinite(`${name}.${encoding}.values`, c.values);
    csr.set(name, c);
  }
  for (const [name, t] of st.tensors) {
    if (parts.has(name)) continue;
    if (PART_NAME.test(name)) fail(`tensor '${name}' is a sparse part the config does not list`);
    if (config.sparse[name]) fail(`'${name}' is stored both dense and as ${config.sparse[name]!.encoding}`);
    if (t.dtype !== 'F32') fail(`tensor '${name}' is ${t.dtype}; weights are F32`);
    count(t.data.length);
    checkFinite(name, t.data as Float32Array);
    dense.set(name, { shape: t.shape, data: t.data as Float32Array });
  }
  const need = minParams(config.model, config.cfg);
  if (need > elements) fail(`config describes a ${config.model} with at least ${need} weights, but the file stores ${elements}`);
  return { config, dense, csr };
}
