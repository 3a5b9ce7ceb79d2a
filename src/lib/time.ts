/**
 * Units of time in milliseconds, and the one English plural, so that no file spells
 * 3_600_000 or `n === 1 ? '' : 's'` again.
 */

/** One hour in ms: the unit a report covers (docs/protocol.md "Reports"). */
export const HOUR_MS = 3_600_000;
/** One day (24 hours of UTC, no leap seconds) in ms. */
export const DAY_MS = 24 * HOUR_MS;

/**
 * "1 GPU", "2 GPUs", "0 GPUs": `count` and the noun in the number it needs. `many` is the
 * plural when it is not `one` + "s" ("1 entry", "2 entries"). Returns the phrase.
 */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}
