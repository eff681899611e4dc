/**
 * Bytes of a data file → text, the one decoder every CSV reader uses (CLI, web worker, benches). UTF-8 is
 * the norm; published benchmark files are not always UTF-8 (TSLib's weather.csv writes units such as
 * "W/m²" with single Latin-1 bytes), and refusing them would refuse a file TSLib trains on. So: a leading
 * UTF-8 byte-order mark is dropped, valid UTF-8 is read as UTF-8, and anything else is read as Latin-1
 * (ISO-8859-1: byte n is code point n, so every byte sequence decodes and nothing is lost) with a warning
 * that names the first line holding such bytes. A UTF-16 file with its byte-order mark (what Excel's "Unicode
 * text" and PowerShell write) is read as UTF-16 with a warning (pandas, so TSLib, needs `encoding='utf-16'` for
 * it); NUL bytes otherwise (UTF-16 without a mark, a binary file) are refused, naming where: read as Latin-1
 * they became NUL characters in the cells and the error printed them raw.
 */

export interface DecodedText {
  text: string;
  /** Zero or one message; the caller decides where it goes (stderr in the CLI, the console in a worker). */
  warnings: string[];
}

const BOM = [0xef, 0xbb, 0xbf];

export function decodeText(bytes: Uint8Array, file = '<csv>'): DecodedText {
  const utf16 = bytes[0] === 0xff && bytes[1] === 0xfe ? 'utf-16le' : bytes[0] === 0xfe && bytes[1] === 0xff ? 'utf-16be' : null;
  if (utf16) {
    try {
      return { text: new TextDecoder(utf16, { fatal: true }).decode(bytes), warnings: [`${file}: UTF-16 (${utf16 === 'utf-16le' ? 'little' : 'big'}-endian, byte-order mark ${utf16 === 'utf-16le' ? 'FF FE' : 'FE FF'}); read as such (pandas needs encoding='utf-16' for it)`] };
    } catch {
      throw new Error(`${file}: starts with a UTF-16 byte-order mark but is not valid UTF-16; save it as UTF-8`);
    }
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    const { line, column } = lineColumn(bytes, nul);
    throw new Error(`${file}:${line}:${column}: a NUL byte — a binary file, or UTF-16 text without its byte-order mark; save it as UTF-8`);
  }
  const body = bytes[0] === BOM[0] && bytes[1] === BOM[1] && bytes[2] === BOM[2] ? bytes.subarray(3) : bytes;
  try {
    // ignoreBOM: the mark was handled above; a second one would be data, not a mark.
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body), warnings: [] };
  } catch {
    const { line, column } = firstInvalidUtf8(body);
    return {
      text: latin1(body),
      warnings: [`${file}:${line}:${column}: not valid UTF-8; read the whole file as Latin-1 (ISO-8859-1), so byte 0xB2 is '²' and 0xB0 is '°'`],
    };
  }
}

/** Line and byte column (from 1) of the first byte that does not belong to a well-formed UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const cont = (i: number, lo = 0x80, hi = 0xbf) => i < bytes.length && bytes[i]! >= lo && bytes[i]! <= hi;
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    let n = -1; // bytes in this sequence; -1 marks an invalid one
    if (b < 0x80) n = 1;
    else if (b >= 0xc2 && b <= 0xdf) n = cont(i + 1) ? 2 : -1;
    // Second-byte ranges exclude overlong forms and surrogates (Unicode table 3-7).
    else if (b >= 0xe0 && b <= 0xef) n = cont(i + 1, b === 0xe0 ? 0xa0 : 0x80, b === 0xed ? 0x9f : 0xbf) && cont(i + 2) ? 3 : -1;
    else if (b >= 0xf0 && b <= 0xf4) n = cont(i + 1, b === 0xf0 ? 0x90 : 0x80, b === 0xf4 ? 0x8f : 0xbf) && cont(i + 2) && cont(i + 3) ? 4 : -1;
    if (n < 0) return { line, column: i - lineStart + 1 };
    if (b === 0x0a) {
      line++;
      lineStart = i + 1;
    }
    i += n;
  }
  return { line, column: bytes.length - lineStart + 1 };
}

/** Line and byte column (from 1) of byte `at`. */
function lineColumn(bytes: Uint8Array, at: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < at; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: at - lineStart + 1 };
}

function latin1(bytes: Uint8Array): string {
  let out = '';
  // fromCharCode takes its arguments on the stack: go in slices.
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out;
}
