// per-function code size of a wasm: parse the code section
import { readFileSync } from 'node:fs';
const b = readFileSync(process.argv[2]);
let p = 8;
const leb = () => { let r = 0, s = 0, x; do { x = b[p++]; r |= (x & 0x7f) << s; s += 7; } while (x & 0x80); return r >>> 0; };
const str = () => { const n = leb(); const t = b.subarray(p, p + n).toString(); p += n; return t; };
let nImports = 0; const exportsByIdx = new Map(); let bodies = [];
while (p < b.length) {
  const id = b[p++]; const size = leb(); const end = p + size;
  if (id === 7) { const n = leb(); for (let i = 0; i < n; i++) { const name = str(); const kind = b[p++]; const idx = leb(); if (kind === 0) exportsByIdx.set(idx, name); } }
  if (id === 10) { const n = leb(); for (let i = 0; i < n; i++) { const s = leb(); bodies.push([s, b.subarray(p, p + s)]); p += s; } }
  if (id === 11) console.log('data section', size);
  p = end;
}
const { gzipSync } = await import('node:zlib');
const rows = bodies.map(([s, body], i) => [s, gzipSync(body, { level: 9 }).length, exportsByIdx.get(i + nImports) ?? `f${i}`]).sort((a, b) => b[0] - a[0]);
console.log(rows.map((r) => r.join('\t')).join('\n'));
