import type { Request, Response } from 'express';

/**
 * CSV for spreadsheets: RFC 4180 quoting, CRLF lines, and a UTF-8 byte-order mark so Excel reads
 * Chinese text (reasons, names) as UTF-8. A cell starting with = + - @ is prefixed with ' so a
 * spreadsheet never runs it as a formula (CSV injection).
 */
export function toCsv(columns: string[], rows: (string | number | boolean | null | undefined)[][]): string {
  const cell = (value: string | number | boolean | null | undefined) => {
    if (value === null || value === undefined) return '';
    let text = String(value);
    if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return '\uFEFF' + [columns, ...rows].map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
}

/** `?format=csv` or `Accept: text/csv` (preferred over JSON). */
export function wantsCsv(req: Request, format?: string): boolean {
  if (format) return format === 'csv';
  return req.accepts(['application/json', 'text/csv']) === 'text/csv' && (req.get('accept') ?? '').includes('text/csv');
}

export function sendCsv(res: Response, filename: string, csv: string): void {
  res.setHeader('Content-Type', 'text/csv; charset=utf-8');
  res.setHeader('Content-Disposition', `attachment; filename="${filename}"`);
  res.send(csv);
}
