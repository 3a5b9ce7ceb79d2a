/** Report ids and hours, pure string work (no node:crypto, so a 5-minute tick need not load it). */
import { HOUR_MS } from '../lib/time.js';

/**
 * The report id of a rig's hour (docs/protocol.md "Reports"): "rpt-<rigId>-<YYYYMMDDHH>",
 * from an hour in the wire format ("2019-04-15T12:00:00Z" → "rpt-<rigId>-2019041512"). The
 * service rejects a report whose id is not this (openapi/rewards.openapi.json gives the
 * pattern). The hour is not validated here.
 */
export function reportIdFor(rigId: string, hour: string): string {
  const compact = hour.slice(0, 13).replace(/[-T]/g, '');
  return `rpt-${rigId}-${compact}`;
}

/**
 * The aligned UTC hour containing `t` (ms since the epoch, or a Date), in the wire format
 * "2019-04-15T12:00:00Z".
 */
export function hourOf(t: number | Date): string {
  const ms = typeof t === 'number' ? t : t.getTime();
  return `${new Date(Math.floor(ms / HOUR_MS) * HOUR_MS).toISOString().slice(0, 13)}:00:00Z`;
}
