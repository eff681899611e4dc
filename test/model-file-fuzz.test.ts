/**
 * The model file loader (src/io/model-file.ts) against thousands of seeded corruptions of a valid file that
 * holds every encoding (dense, CSR, bitmask, fan_in, block: test/fixtures/infer/synthetic-model.ts): byte
 * flips, truncations, header-length edits, header edits (dtypes, shapes, offsets, entries, metadata and
 * config fields) and sparse content edits (values, indices, bitmaps) — the last two re-sealed with a correct
 * CRC so that they reach the deeper checks. Hand-made corruptions of each encoding check the messages. Every outcome must be a clear `model file: …` Error or a successful load, never another
 * exception (TypeError, RangeError, a wasm trap), and each load is time-bounded. Files that still load are
 * bound to a model and run once on the wasm backend: a clear error or a finite forecast.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  csrIndexTypes, readModelFile, sealModelFile, writeModelFile, SPARSECAST_VERSION, type ModelFile,
} from '../src/io/model-file.ts';
import { loadForecaster } from '../src/infer/index.ts';
import { SYNTHETIC_CONFIG, syntheticModelFile, syntheticWeights } from './fixtures/infer/synthetic-model.ts';
import { mulberry32 as prng } from './shared/mulberry32.ts';

interface Parts {
  header: Record<string, unknown>;
  data: Uint8Array;
}

function split(bytes: Uint8Array): Parts {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>, data: bytes.slice(8 + n) };
}

function join(p: Parts, reseal: boolean): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(p.header));
  const out = new Uint8Array(8 + h.length + p.data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(p.data, 8 + h.length);
  if (reseal) {
    try {
      sealModelFile(out);
    } catch {
      // the edit removed or duplicated the crc field: leave the file as it is
    }
  }
  return out;
}

const JUNK: unknown[] = [null, true, 'x', '', -1, 0, 1, 2.5, 1e9, 2 ** 53, -1e300, NaN, [], [1], {}, { a: 1 }, '8', [0, -1], [1e12, 1e12]];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

/** Change one random field somewhere inside a JSON value (in place where possible); returns the new value. */
function mutateJson(r: () => number, v: unknown, depth = 0): unknown {
  if (Array.isArray(v)) {
    if (v.length === 0 || r() < 0.2) return pick(r, JUNK);
    const i = Math.floor(r() * v.length);
    const op = r();
    if (op < 0.15) v.splice(i, 1);
    else if (op < 0.25) v.push(pick(r, JUNK));
    else v[i] = mutateJson(r, v[i], depth + 1);
    return v;
  }
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 0 || (depth > 0 && r() < 0.1)) return pick(r, JUNK);
    const k = pick(r, keys);
    const op = r();
    if (op < 0.15) delete o[k];
    else if (op < 0.2) o[`${k}_x`] = pick(r, JUNK);
    else o[k] = mutateJson(r, o[k], depth + 1);
    return o;
  }
  if (typeof v === 'number') {
    const op = r();
    if (op < 0.3) return v + (r() < 0.5 ? 1 : -1);
    if (op < 0.5) return v * 2;
    if (op < 0.6) return -v;
    if (op < 0.7) return v + 0.5;
    return pick(r, JUNK);
  }
  return pick(r, JUNK);
}

type Mutation = (r: () => number, base: Uint8Array) => Uint8Array;

const MUTATIONS: Record<string, Mutation> = {
  flip(r, base) {
    const b = base.slice();
    const n = 1 + Math.floor(r() * 8);
    for (let k = 0; k < n; k++) {
      const at = Math.floor(r() * b.length);
      b[at] = b[at]! ^ (1 + Math.floor(r() * 255));
    }
    return b;
  },
  truncate(r, base) {
    return base.slice(0, Math.floor(r() * base.length));
  },
  headerLength(r, base) {
    const b = base.slice();
    const n = Number(new DataView(b.buffer).getBigUint64(0, true));
    const choices = [0n, 1n, BigInt(n - 1), BigInt(n + 1), BigInt(b.length), BigInt(b.length - 8), 2n ** 63n, 2n ** 64n - 1n, 99_999_999n, BigInt(Math.floor(r() * b.length))];
    new DataView(b.buffer).setBigUint64(0, pick(r, choices) as bigint, true);
    return b;
  },
  /** Edit one tensor entry: dtype, shape, offsets; drop, duplicate or rename it. Re-sealed. */
  entry(r, base) {
    const p = split(base);
    const names = Object.keys(p.header).filter((k) => k !== '__metadata__');
    const name = pick(r, names);
    const e = p.header[name] as { dtype: string; shape: number[]; data_offsets: number[] };
    const op = Math.floor(r() * 8);
    if (op === 0) e.dtype = pick(r, ['F32', 'I32', 'U8', 'U16', 'I16', 'I8', 'F64', 'I64', 'BF16', '']);
    else if (op === 1) e.shape = mutateJson(r, e.shape) as number[];
    else if (op === 2) e.data_offsets = mutateJson(r, e.data_offsets) as number[];
    else if (op === 3) {
      const other = p.header[pick(r, names)] as { data_offsets: number[] };
      [e.data_offsets, other.data_offsets] = [other.data_offsets, e.data_offsets];
    } else if (op === 4) delete p.header[name];
    else if (op === 5) p.header[`${name}2`] = { ...e };
    else if (op === 6) {
      p.header[name.replace(/\.(csr\.)?(\w+)$/, '.$1x$2')] = e;
      delete p.header[name];
    } else p.header[name] = mutateJson(r, e);
    return join(p, true);
  },
  /** Edit one field of the config JSON (or another metadata string). Re-sealed. */
  config(r, base) {
    const p = split(base);
    const meta = p.header.__metadata__ as Record<string, unknown>;
    if (r() < 0.15) {
      const k = pick(r, ['format', 'format_version', 'crc32', 'config']);
      if (r() < 0.5) delete meta[k];
      else meta[k] = pick(r, ['', '1', '2', 'sparsecast-model', '{}', 7, null]);
    } else {
      const cfg = JSON.parse(meta.config as string) as unknown;
      meta.config = JSON.stringify(mutateJson(r, cfg));
    }
    return join(p, true);
  },
  /** Overwrite bytes inside a sparse part (values, col, row_ptr, bits, rows) of any encoding. Re-sealed. */
  sparseData(r, base) {
    const p = split(base);
    const names = Object.keys(p.header).filter((k) => /\.(csr|bitmask|fan_in|block)\./.test(k));
    const e = p.header[pick(r, names)] as { dtype: string; data_offsets: [number, number] };
    const [b, end] = e.data_offsets;
    if (end > b) {
      const n = 1 + Math.floor(r() * 3);
      for (let k = 0; k < n; k++) {
        const at = b + Math.floor(r() * (end - b));
        p.data[at] = r() < 0.5 ? 0xff : Math.floor(r() * 256);
      }
    }
    return join(p, true);
  },
};

const ALLOWED = /^(model file|forecast): /;

describe('model file loader under fuzzing', () => {
  const base = syntheticModelFile();

  it('writes a file that reads back exactly: every encoding, the narrowest CSR index types', () => {
    const f: ModelFile = readModelFile(base);
    expect(f.config.model).toBe('Transformer');
    expect(f.config.sparsecast).toBe(SPARSECAST_VERSION);
    expect(f.config.formatVersion).toBe(2);
    expect(new Set([...f.csr.values()].map((c) => c.encoding))).toEqual(new Set(['csr', 'bitmask', 'fan_in', 'block']));
    const { header } = split(base);
    const dtypes = new Set(Object.entries(header).filter(([k]) => k.includes('.csr.col') || k.includes('.csr.row_ptr')).map(([k, v]) => `${k.split('.csr.')[1]}:${(v as { dtype: string }).dtype}`));
    expect(dtypes).toEqual(new Set(['col:U8', 'col:U16', 'row_ptr:U8', 'row_ptr:U16']));
    expect(csrIndexTypes(256, 255)).toEqual({ col: 'U8', rowPtr: 'U8' });
    expect(csrIndexTypes(257, 256)).toEqual({ col: 'U16', rowPtr: 'U16' });
    expect(csrIndexTypes(65537, 65536)).toEqual({ col: 'I32', rowPtr: 'I32' });
    // Every weight decodes to exactly what was written: the masked weights' bits, entry for entry, and the
    // pattern is the mask's.
    for (const w of syntheticWeights()) {
      const c = f.csr.get(w.name);
      if (!c) {
        expect(Buffer.from(f.dense.get(w.name)!.data.buffer).equals(Buffer.from(w.data.buffer)), w.name).toBe(true);
        continue;
      }
      expect(c.encoding, w.name).toBe(w.encoding);
      const dense = new Float32Array(c.rows * c.cols);
      const mask = new Uint8Array(c.rows * c.cols);
      for (let r = 0; r < c.rows; r++) {
        for (let p = c.rowPtr[r]!; p < c.rowPtr[r + 1]!; p++) {
          dense[r * c.cols + c.colIdx[p]!] = c.values[p]!;
          mask[r * c.cols + c.colIdx[p]!] = 1;
        }
      }
      expect(Buffer.from(dense.buffer).equals(Buffer.from(w.data.buffer)), w.name).toBe(true);
      expect(mask, w.name).toEqual(w.mask);
    }
    // fan_in drops the ablated rows: its values are [live rows, k].
    const fan = header['decoder.layers.0.conv1.weight.fan_in.values'] as { shape: number[] };
    expect(fan.shape).toEqual([258, 3]);
    expect((header['decoder.layers.0.conv1.weight.fan_in.rows'] as { shape: number[] }).shape).toEqual([33]);
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(SPARSECAST_VERSION).toBe(pkg.version);
  });

  it('refuses hand-made corruptions of each encoding with errors that name the tensor and the problem', () => {
    /** Edit the parsed file (header and data), re-seal it, and return the load error's message. */
    const refuse = (edit: (p: Parts, at: (name: string) => Uint8Array) => void): string => {
      const p = split(base);
      edit(p, (name) => {
        const [b, e] = (p.header[name] as { data_offsets: [number, number] }).data_offsets;
        return p.data.subarray(b, e);
      });
      try {
        readModelFile(join(p, true));
      } catch (e) {
        return (e as Error).message;
      }
      return 'loaded';
    };
    const sparse = (p: Parts) => {
      const meta = p.header.__metadata__ as Record<string, string>;
      const cfg = JSON.parse(meta.config!) as { sparse: Record<string, Record<string, unknown>> };
      return { cfg, save: () => (meta.config = JSON.stringify(cfg)) };
    };
    const bm = 'decoder.projection.weight.bitmask';
    const bl = 'decoder.layers.0.conv2.weight.block';
    const fi = 'decoder.layers.0.conv1.weight.fan_in';
    // bitmask: one bit more than there are values; a padding bit; a short bitmap; values of another dtype.
    expect(refuse((_, at) => {
      const bits = at(`${bm}.bits`);
      for (let i = 0; i < 24; i++) if (!(bits[i >> 3]! & (1 << (i & 7)))) return void (bits[i >> 3] = bits[i >> 3]! | (1 << (i & 7)));
    })).toMatch(/^model file: 'decoder\.projection\.weight': the bitmask bitmap makes 10 entries active; there are 9 values$/);
    // (130 tiles of 4×4 in [8, 260]: 17 bytes, the last 6 bits padding; 260 rows: 33 bytes, 4 bits padding.)
    expect(refuse((_, at) => void (at(`${bl}.bits`)[16] = at(`${bl}.bits`)[16]! | 0x80))).toMatch(/'decoder\.layers\.0\.conv2\.weight\.block\.bits' must hold 130 bits in 17 bytes, padding bits 0/);
    expect(refuse((_, at) => void (at(`${fi}.rows`)[32] = at(`${fi}.rows`)[32]! | 0x10))).toMatch(/'decoder\.layers\.0\.conv1\.weight\.fan_in\.rows' must hold 260 bits in 33 bytes, padding bits 0/);
    expect(refuse((p) => ((p.header[`${bm}.bits`] as { dtype: string }).dtype = 'I8'))).toMatch(/tensor 'decoder\.projection\.weight\.bitmask\.bits' must be U8 of rank 1, got I8/);
    expect(refuse((p) => {
      const e = p.header[`${bm}.values`] as { shape: number[] };
      e.shape = [3, 3];
    })).toMatch(/tensor 'decoder\.projection\.weight\.bitmask\.values' must be F32 of rank 1, got F32 \[3, 3\]/);
    // block: a tile switched on; B changed so the bitmap's length no longer fits; B out of range.
    expect(refuse((_, at) => void (at(`${bl}.bits`)[0] = at(`${bl}.bits`)[0]! ^ 1))).toMatch(/'decoder\.layers\.0\.conv2\.weight': the block bitmap makes \d+ entries active; there are \d+ values/);
    expect(refuse((p) => {
      const { cfg, save } = sparse(p);
      cfg.sparse['decoder.layers.0.conv2.weight']!.block = 8;
      save();
    })).toMatch(/'decoder\.layers\.0\.conv2\.weight\.block\.bits' must hold 33 bits in 5 bytes/);
    expect(refuse((p) => {
      const { cfg, save } = sparse(p);
      cfg.sparse['decoder.layers.0.conv2.weight']!.block = 1;
      save();
    })).toMatch(/config\.sparse\['decoder\.layers\.0\.conv2\.weight'\]\.block = 1 is outside \[2, 65536\]/);
    // fan_in: a dead row marked live; a column out of range; columns not increasing.
    expect(refuse((_, at) => void (at(`${fi}.rows`)[0] = at(`${fi}.rows`)[0]! | 2))).toMatch(/'decoder\.layers\.0\.conv1\.weight': the fan_in bitmap makes 777 entries active; there are 774 values/);
    expect(refuse((_, at) => void (at(`${fi}.col`)[5] = 9))).toMatch(/'decoder\.layers\.0\.conv1\.weight': column index 9 at entry 5 \(row \d+\) is outside \[0, 8\)/);
    expect(refuse((_, at) => {
      const col = at(`${fi}.col`);
      [col[0], col[1]] = [col[1]!, col[0]!];
    })).toMatch(/'decoder\.layers\.0\.conv1\.weight': column indices of row 0 do not increase at entry 1/);
    // The config and the parts must agree: a missing part, an unknown encoding, a part nobody lists.
    expect(refuse((p) => {
      p.header[`${fi}.live`] = p.header[`${fi}.rows`];
      delete p.header[`${fi}.rows`];
    })).toMatch(/config lists 'decoder\.layers\.0\.conv1\.weight' as fan_in but tensor 'decoder\.layers\.0\.conv1\.weight\.fan_in\.rows' is missing/);
    expect(refuse((p) => {
      const { cfg, save } = sparse(p);
      cfg.sparse['decoder.layers.0.conv1.weight']!.encoding = 'coo';
      save();
    })).toMatch(/config\.sparse\['decoder\.layers\.0\.conv1\.weight'\]\.encoding must be one of csr, bitmask, fan_in, block, got "coo"/);
    expect(refuse((p) => {
      const { cfg, save } = sparse(p);
      cfg.sparse['decoder.layers.0.conv1.weight']!.encoding = 'bitmask';
      save();
    })).toMatch(/config lists 'decoder\.layers\.0\.conv1\.weight' as bitmask but tensor 'decoder\.layers\.0\.conv1\.weight\.bitmask\.values' is missing/);
    expect(refuse((p) => {
      const { cfg, save } = sparse(p);
      delete cfg.sparse['decoder.projection.weight'];
      save();
    })).toMatch(/tensor 'decoder\.projection\.weight\.bitmask\.(values|bits)' is a sparse part the config does not list/);
    // CSR keeps its checks.
    expect(refuse((_, at) => void (at('encoder.attn_layers.0.conv1.weight.csr.row_ptr')[4] = 0))).toMatch(/'encoder\.attn_layers\.0\.conv1\.weight': row_ptr decreases or passes nnz/);
    // Version: a version-2 layout labelled 1 is read as version 1 (a `csr` map) and refused; 3 is unknown.
    expect(refuse((p) => ((p.header.__metadata__ as Record<string, string>).format_version = '1'))).toMatch(/config\.formatVersion = 2 is outside \[1, 1\]/);
    expect(refuse((p) => ((p.header.__metadata__ as Record<string, string>).format_version = '3'))).toMatch(/format version "3" is not supported \(this reader knows 1 to 2\)/);
    // The writer refuses an encoding that does not apply to the mask.
    const w = syntheticWeights();
    const proj = w.find((x) => x.name === 'decoder.projection.weight')!;
    expect(() => writeModelFile(SYNTHETIC_CONFIG, w.map((x) => (x === proj ? { ...x, encoding: 'fan_in' as const } : x)))).toThrow(/encodeSparse: 'decoder\.projection\.weight' is not a fan_in mask/);
    expect(() => writeModelFile(SYNTHETIC_CONFIG, w.map((x) => (x === proj ? { ...x, encoding: 'block' as const, block: 2 } : x)))).toThrow(/encodeSparse: 'decoder\.projection\.weight' is not a mask of whole 2×2 blocks/);
    expect(() => writeModelFile(SYNTHETIC_CONFIG, w.map((x) => (x.name === 'decoder.projection.bias' ? { ...x, encoding: 'csr' as const } : x)))).toThrow(/cannot be stored as csr: only a masked weight of rank ≥ 2/);
  });

  it('refuses a few hand-made corruptions with errors that name the problem', () => {
    expect(() => readModelFile(base.slice(0, 5))).toThrow(/model file: .*shorter than the 8-byte header/);
    expect(() => readModelFile(base.slice(0, base.length - 1))).toThrow(/model file: /);
    const flipped = base.slice();
    flipped[flipped.length - 3] = flipped[flipped.length - 3]! ^ 0x40;
    expect(() => readModelFile(flipped)).toThrow(/model file: checksum mismatch/);
    const p = split(base);
    const cfg = JSON.parse((p.header.__metadata__ as Record<string, string>).config!) as { cfg: Record<string, unknown> };
    cfg.cfg.nHeads = 3;
    (p.header.__metadata__ as Record<string, string>).config = JSON.stringify(cfg);
    expect(() => readModelFile(join(p, true))).toThrow(/model file: config.cfg.dModel 8 is not divisible by nHeads 3/);
    expect(() => writeModelFile({} as never, [{ name: 'a.csr.col', shape: [1], data: new Float32Array(1) }])).toThrow(/collides/);
    expect(() => writeModelFile({} as never, [{ name: 'a.block.bits', shape: [1], data: new Float32Array(1) }])).toThrow(/collides/);
  });

  it('gives only clear errors (or a valid load) for 3000 seeded corruptions, each within a second', async () => {
    const kinds = Object.keys(MUTATIONS);
    const counts: Record<string, { ok: number; refused: number }> = {};
    const messages = new Set<string>();
    const problems: string[] = [];
    const loaded: { bytes: Uint8Array; what: string }[] = [];
    const nonFinite: string[] = [];
    let slowest = 0;
    const N = 3000;
    for (let i = 0; i < N; i++) {
      const r = prng(1000 + i);
      const kind = kinds[i % kinds.length]!;
      const bytes = MUTATIONS[kind]!(r, base);
      const c = (counts[kind] ??= { ok: 0, refused: 0 });
      const t0 = performance.now();
      try {
        readModelFile(bytes);
        c.ok++;
        if (loaded.length < 40) loaded.push({ bytes, what: `#${i} ${kind}` });
      } catch (e) {
        c.refused++;
        const err = e as Error;
        if (!(err instanceof Error) || err.constructor !== Error || !ALLOWED.test(err.message)) {
          problems.push(`#${i} ${kind}: ${err?.constructor?.name}: ${err?.message}`);
        } else {
          messages.add(err.message.replace(/-?\d[\d.e+-]*/g, 'N').replace(/'[^']*'/g, "'…'").slice(0, 60));
        }
      }
      slowest = Math.max(slowest, performance.now() - t0);
    }
    console.log(`fuzz: ${JSON.stringify(counts)}; ${messages.size} distinct error kinds; slowest load ${slowest.toFixed(1)} ms; ${loaded.length} loaded files bound and run`);
    // Files that still load (edits that keep the file valid) must bind and forecast, or fail clearly.
    for (const { bytes, what } of loaded) {
      try {
        const f = await loadForecaster(bytes, { backend: 'wasm' });
        const { seqLen, encIn } = f.config.cfg;
        const values = Float32Array.from({ length: seqLen * encIn }, (_, k) => Math.sin(k));
        const dates = Array.from({ length: seqLen }, (_, k) => new Date(Date.UTC(2020, 0, 1, k)).toISOString().replace('.000Z', 'Z'));
        const y = f.forecast({ values, dates });
        f.dispose();
        // (Finite only where the edit kept the weights moderate: a re-sealed 0xff byte can make a weight ±3e38.)
        if (y.length !== f.config.cfg.predLen * encIn) problems.push(`${what}: forecast has ${y.length} values`);
        if (!y.every(Number.isFinite)) nonFinite.push(what);
      } catch (e) {
        const err = e as Error;
        if (!(err instanceof Error) || !ALLOWED.test(err.message)) problems.push(`${what} bind/forecast: ${err?.constructor?.name}: ${err?.message}`);
      }
    }
    if (nonFinite.length) console.log(`non-finite forecasts from valid edited files: ${nonFinite.join(', ')}`);
    expect(problems.slice(0, 10)).toEqual([]);
    expect(slowest).toBeLessThan(1000);
    // Every mutation family is exercised, and the re-sealed ones reach the deeper checks.
    for (const k of kinds) expect(counts[k]!.refused, k).toBeGreaterThan(0);
    expect(messages.size).toBeGreaterThan(25);
    const all = [...messages].join('\n');
    for (const re of [/checksum/, /row_ptr/, /column ind/, /config\.cfg/, /config\.scaler/, /data section|belong to no tensor|overlaps/, /dtype|is I|is U|is F|must be/, /bitmap makes/]) {
      expect(all, String(re)).toMatch(re);
    }
  }, 120_000);
});
