/**
 * Hours and instants as the service reads them from clients. An hour is an instant: one text per
 * hour, or none. `Date.parse` rolls "24:00" and "June 31" over to the next day, so two texts could
 * name one physical hour; report ids and GPU claims are keyed on the text, so each alias was paid
 * again (docs/threat-model.md, "Hours are instants"). Only the canonical text is accepted.
 */
export { HOUR_MS } from '../lib/time.js';

const HOUR_TEXT = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):00:00Z$/;
const INSTANT_TEXT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/;

/**
 * The start of a UTC hour in canonical form ("2019-04-15T12:00:00Z", hour 00–23, a real calendar
 * date), as epoch ms; null for anything else, including texts Date.parse would roll over.
 */
export function parseHour(text: string): number | null {
  const m = HOUR_TEXT.exec(text);
  if (!m) return null;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]));
  return canonicalHour(t) === text ? t : null;
}

/** The canonical text of the UTC hour that starts at `t` (epoch ms, a multiple of an hour). */
export function canonicalHour(t: number): string {
  return `${new Date(t).toISOString().slice(0, 13)}:00:00Z`;
}

/**
 * An instant given by a client (ledger bounds, a verdict's checkedAt): UTC ISO 8601 with seconds,
 * optional milliseconds and Z, that round-trips through Date (no "24:00", no day 31 of June).
 * Returns epoch ms, or null.
 */
export function parseInstant(text: string): number | null {
  if (!INSTANT_TEXT.test(text)) return null;
  const t = Date.parse(text);
  if (Number.isNaN(t)) return null;
  const back = new Date(t).toISOString();
  return back === text || back.replace('.000Z', 'Z') === text ? t : null;
}
