/**
 * One CSV record as RFC 4180 writes it (and as our parser, pandas and TSLib read it back): a field holding a
 * comma, a double quote, CR or LF is quoted, its quotes doubled. Column names come from the user's file, where
 * a quoted header such as "HU,FL" is valid — written bare, it would split into two columns.
 */
export function csvRow(fields: readonly string[]): string {
  return fields.map((f) => (/[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(',');
}
