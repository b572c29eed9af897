/** Plain-text tables for the terminal: columns as wide as their longest cell, cells padded to their column. */

/** Each column's width: the longest of its header and its cells (a row missing a cell counts it empty). */
export function columnWidths(header: readonly string[], body: readonly (readonly string[])[]): number[] {
  return header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
}

/** The cells padded to their column's width, on the left where `alignRight(i)`, joined by `gap`. */
export function padCells(cells: readonly string[], widths: readonly number[], alignRight: (i: number) => boolean, gap = '  '): string {
  return cells.map((c, i) => (alignRight(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(gap);
}
