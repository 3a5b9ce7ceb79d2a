/** Aligned text tables for the human renderers (ANSI colour codes do not count as width). */

/**
 * `s` padded with spaces to `width` visible characters (ANSI colour codes do not count);
 * returned unchanged when already as wide.
 */
export function pad(s: string, width: number): string {
  const visible = s.replace(/\x1b\[[0-9;]*m/g, '');
  return visible.length >= width ? s : s + ' '.repeat(width - visible.length);
}

/**
 * Rows of cells as aligned text: each column as wide as its widest cell, two spaces between
 * columns, the last cell of a row unpadded, rows joined by newlines (no final newline).
 */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.replace(/\x1b\[[0-9;]*m/g, '').length);
    });
  return rows
    .map((row) => row.map((c, i) => (i === row.length - 1 ? c : pad(c, widths[i]!))).join('  '))
    .join('\n');
}
