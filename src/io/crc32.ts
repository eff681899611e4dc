/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, as zlib and PNG compute it). One implementation for every
 * sparsecast file that carries a checksum: the exported model file (model-file.ts) and the run files a training
 * writes (checksum.ts). Pure TypeScript, so the browser and Deno inference bundles can use it too.
 */

let table: Uint32Array | null = null;

/** CRC-32 of the concatenation of `chunks` (chunks avoid copying the pieces of a file into one buffer). */
export function crc32(chunks: readonly Uint8Array[]): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  const t = table;
  let c = 0xffffffff;
  for (const b of chunks) for (let i = 0; i < b.length; i++) c = t[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The 8 lowercase hex digits sparsecast stores a CRC-32 as. */
export function crcHex(crc: number): string {
  return crc.toString(16).padStart(8, '0');
}
