/** Report ids and hours, pure string work (no node:crypto, so a 5-minute tick need not load it). */
import { HOUR_MS } from '../lib/time.js';

/** "2019-04-15T12:00:00Z" -> "rpt-<rigId>-2019041512". */
export function reportIdFor(rigId: string, hour: string): string {
  const compact = hour.slice(0, 13).replace(/[-T]/g, '');
  return `rpt-${rigId}-${compact}`;
}

/** The aligned hour containing `t`, as the wire format writes it. */
export function hourOf(t: number | Date): string {
  const ms = typeof t === 'number' ? t : t.getTime();
  return `${new Date(Math.floor(ms / HOUR_MS) * HOUR_MS).toISOString().slice(0, 13)}:00:00Z`;
}
