/**
 * Plain-text tables for benchmark output: columns separated by " | ", a dashed rule under the
 * header, text left-aligned and numbers right-aligned. Pure string work.
 */

export type Align = 'left' | 'right';

export interface Column {
  header: string;
  align?: Align;
}

/** Formats rows under headers; every row must have one cell per column. */
export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  for (const [i, row] of rows.entries()) {
    if (row.length !== columns.length) throw new RangeError(`row ${i} has ${row.length} cells, expected ${columns.length}`);
  }
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[], header: boolean) =>
    cells
      .map((cell, i) => {
        const align = header ? 'left' : (columns[i]!.align ?? 'left');
        return align === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!);
      })
      .join(' | ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('-|-');
  return [line(columns.map((c) => c.header), true), rule, ...rows.map((r) => line(r, false))].join('\n');
}

/** A number with a fixed count of decimals; "–" for NaN or infinite. */
export function fixed(value: number, decimals: number): string {
  return Number.isFinite(value) ? value.toFixed(decimals) : '–';
}

/** An integer with thousands separators ("12,345"); "–" for NaN or infinite. */
export function thousands(value: number): string {
  if (!Number.isFinite(value)) return '–';
  return Math.round(value)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Milliseconds for a latency column: 2 decimals below 10 ms, 1 below 100, whole above. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const a = Math.abs(value);
  return value.toFixed(a < 10 ? 2 : a < 100 ? 1 : 0);
}

/** A 0–1 share as a whole percentage ("97%"); "–" for NaN. */
export function percent(share: number): string {
  return Number.isFinite(share) ? `${Math.round(share * 100)}%` : '–';
}
