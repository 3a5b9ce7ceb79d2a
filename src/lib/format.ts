/** Small formatting helpers shared by the human renderers. */
export function formatBytes(bytes: number, decimal = true): string {
  const unit = decimal ? 1e9 : 2 ** 30;
  return `${(bytes / unit).toFixed(1)} ${decimal ? 'GB' : 'GiB'}`;
}

export function formatUsd(usd: number): string {
  return `$${usd.toFixed(usd >= 100 ? 0 : 2).replace(/\.00$/, '')}`;
}

export function pad(s: string, width: number): string {
  const visible = s.replace(/\x1b\[[0-9;]*m/g, '');
  return visible.length >= width ? s : s + ' '.repeat(width - visible.length);
}

export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, c.replace(/\x1b\[[0-9;]*m/g, '').length); });
  return rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : pad(c, widths[i]!))).join('  ')).join('\n');
}

export function hourLabel(iso: string): string {
  return iso.slice(11, 16);
}
