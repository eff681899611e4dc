/**
 * CSV reading for time-series files: a header row, a date column and numeric columns. The parser is a small
 * state machine over characters (quoted fields with "" escapes, CRLF or LF line ends), fed in chunks so a
 * large file streams. Every problem is reported as `file:line:column: what was expected`. Text comes in
 * already decoded (see decode.ts for bytes: BOM, UTF-8, Latin-1).
 */
import { decodeText } from './decode.ts';

export interface CsvTable {
  /**
   * `date`, then the value columns in file order. The file may hold its `date` column anywhere (TSLib's
   * Dataset_Custom selects it by name); it is listed first here whatever its place.
   */
  header: string[];
  /** Raw date strings (the column named `date`), one per row. */
  dates: string[];
  /**
   * Row-major values of the numeric columns, [rows, header.length - 1], in float64 as pandas reads them: the
   * scaler is fit and applied before anything is rounded to float32 (TSLib's order), so a column with a large
   * offset (a meter reading of 1e8 + small changes) keeps its variation — read as float32 it kept 3 distinct
   * values of 171.
   */
  values: Float64Array;
  rows: number;
  cols: number;
  /** The file line (from 1) each row starts on, for messages; absent for tables not read from a file. */
  lines?: number[];
  /** The column (from 1) each row's date cell starts at, for messages; absent for tables not read from a file. */
  dateColumns?: number[];
}

export interface CsvOptions {
  /** Name shown in error messages. */
  file?: string;
  /** What to do with an empty cell: 'error' (default), 'previous' (carry the last value forward), 'zero'. */
  fillEmpty?: 'error' | 'previous' | 'zero';
  /** Column that must be present (e.g. the target). */
  requireColumn?: string;
}

export class CsvError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    what: string,
  ) {
    super(`${file}:${line}:${column}: ${what}`);
    this.name = 'CsvError';
  }
}

/** Incremental tokenizer: feed text chunks, receive records with the line and column of each field. */
export class CsvTokenizer {
  private field = '';
  private record: string[] = [];
  private fieldCols: number[] = [];
  private inQuotes = false;
  private quoteClosed = false;
  private line = 1;
  private col = 1;
  private fieldStartCol = 1;
  private recordLine = 1;
  private pendingCR = false;
  /** Where the open quoted field began: an unclosed quote is reported there, not at the end of the file. */
  private quoteLine = 1;
  private quoteCol = 1;

  constructor(
    private readonly file: string,
    private readonly onRecord: (fields: string[], line: number, cols: number[]) => void,
  ) {}

  feed(chunk: string): void {
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk[i]!;
      if (this.pendingCR) {
        this.pendingCR = false;
        if (ch === '\n') continue;
      }
      if (this.inQuotes) {
        if (ch === '"') {
          if (chunk[i + 1] === '"') {
            this.field += '"';
            i++;
            this.col += 2;
            continue;
          }
          this.inQuotes = false;
          this.quoteClosed = true;
        } else {
          this.field += ch;
          if (ch === '\n') {
            this.line++;
            this.col = 0;
          }
        }
        this.col++;
        continue;
      }
      if (ch === '"') {
        if (this.field.length > 0 || this.quoteClosed) {
          throw new CsvError(this.file, this.line, this.col, 'a quote inside an unquoted field; quote the whole field');
        }
        this.inQuotes = true;
        this.quoteLine = this.line;
        this.quoteCol = this.col;
        this.col++;
        continue;
      }
      if (ch === ',') {
        this.endField();
        this.col++;
        this.fieldStartCol = this.col;
        continue;
      }
      if (ch === '\r' || ch === '\n') {
        this.endRecord();
        if (ch === '\r') this.pendingCR = true;
        this.line++;
        this.col = 1;
        this.fieldStartCol = 1;
        this.recordLine = this.line;
        continue;
      }
      if (this.quoteClosed) {
        throw new CsvError(this.file, this.line, this.col, 'a comma or line end after a closing quote');
      }
      this.field += ch;
      this.col++;
    }
  }

  end(): void {
    if (this.inQuotes) {
      throw new CsvError(this.file, this.quoteLine, this.quoteCol, `a quote opened here is never closed (the file ends at line ${this.line} inside it)`);
    }
    this.endRecord();
  }

  private endField(): void {
    this.record.push(this.field);
    this.fieldCols.push(this.fieldStartCol);
    this.field = '';
    this.quoteClosed = false;
  }

  private endRecord(): void {
    if (this.record.length === 0 && this.field === '' && !this.quoteClosed) return; // blank line
    this.endField();
    this.onRecord(this.record, this.recordLine, this.fieldCols);
    this.record = [];
    this.fieldCols = [];
  }
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parse a whole CSV text (or a sequence of chunks) into a table. */
export function parseCsv(chunks: string | Iterable<string>, opts: CsvOptions = {}): CsvTable {
  const file = opts.file ?? '<csv>';
  const fill = opts.fillEmpty ?? 'error';
  let header: string[] | null = null;
  const dates: string[] = [];
  const lines: number[] = [];
  const dateColumns: number[] = [];
  // Field index of the date and of each value column.
  let dateField = 0;
  let valueFields: number[] = [];
  let values = new Float64Array(1024);
  let n = 0;
  let cols = 0;
  const last: number[] = [];
  const tok = new CsvTokenizer(file, (fields, line, fieldCols) => {
    if (header === null) {
      const names = fields.map((f) => f.trim());
      dateField = names.indexOf('date');
      if (dateField < 0) {
        throw new CsvError(file, line, 1, `a header with a column named 'date', found '${names.join(',')}'`);
      }
      if (names.length < 2) throw new CsvError(file, line, 1, 'at least one value column besides date');
      const seen = new Set<string>();
      names.forEach((h, i) => {
        if (h === '') throw new CsvError(file, line, fieldCols[i]!, 'a column name, found an empty header cell');
        if (seen.has(h)) throw new CsvError(file, line, fieldCols[i]!, `unique column names, '${h}' repeats`);
        seen.add(h);
      });
      if (opts.requireColumn && !seen.has(opts.requireColumn)) {
        throw new CsvError(file, line, 1, `a column named '${opts.requireColumn}' (columns: ${names.join(', ')})`);
      }
      valueFields = names.map((_, i) => i).filter((i) => i !== dateField);
      header = ['date', ...valueFields.map((i) => names[i]!)];
      cols = header.length - 1;
      return;
    }
    if (fields.length !== cols + 1) {
      throw new CsvError(file, line, fieldCols[Math.min(fields.length, cols + 1) - 1] ?? 1, `${cols + 1} fields as in the header, found ${fields.length}`);
    }
    const date = fields[dateField]!.trim();
    if (date === '') throw new CsvError(file, line, fieldCols[dateField]!, 'a date, found an empty cell');
    dates.push(date);
    lines.push(line);
    dateColumns.push(fieldCols[dateField]!);
    if (n + cols > values.length) {
      const grown = new Float64Array(values.length * 2 + cols);
      grown.set(values);
      values = grown;
    }
    for (let c = 0; c < cols; c++) {
      const f = valueFields[c]!;
      const raw = fields[f]!.trim();
      let v: number;
      if (raw === '') {
        if (fill === 'error') {
          throw new CsvError(file, line, fieldCols[f]!, `a number in column '${header[c + 1]}', found an empty cell (pandas would read NaN there and TSLib train on NaN: fill the cell or drop the row; parseCsv in code takes fillEmpty 'previous' or 'zero')`);
        }
        v = fill === 'zero' ? 0 : (last[c] ?? 0);
      } else {
        if (!NUMBER.test(raw)) {
          throw new CsvError(file, line, fieldCols[f]!, `a finite number in column '${header[c + 1]}', found '${raw}'`);
        }
        v = Number(raw);
        if (!Number.isFinite(Math.fround(v))) {
          throw new CsvError(file, line, fieldCols[f]!, `a number within f32 range in column '${header[c + 1]}', found '${raw}'`);
        }
      }
      last[c] = v;
      values[n++] = v;
    }
  });
  if (typeof chunks === 'string') tok.feed(chunks);
  else for (const c of chunks) tok.feed(c);
  tok.end();
  if (header === null) throw new CsvError(file, 1, 1, 'a header row, found an empty file');
  const h = header as string[];
  return { header: h, dates, values: values.slice(0, n), rows: dates.length, cols, lines, dateColumns };
}

/**
 * Parse a file's bytes: decoded by decode.ts (BOM dropped, UTF-8, else Latin-1 with a warning), then parsed.
 * Every reader of data files goes through here so all read a file alike.
 */
export function parseCsvBytes(bytes: Uint8Array, opts: CsvOptions & { onWarning?: (message: string) => void } = {}): CsvTable {
  const { text, warnings } = decodeText(bytes, opts.file);
  for (const w of warnings) opts.onWarning?.(w);
  return parseCsv(text, opts);
}
