/** Exponential backoff with full jitter (AWS architecture blog): sleep = random(0, min(cap, base·2^n)). */
export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 60_000 };

/**
 * The wait before retry number `attempt` (0-based), in ms: a random whole number in
 * [0, min(capMs, baseMs · 2^attempt)), full jitter as in the AWS Architecture Blog's
 * "Exponential Backoff and Jitter" (the rule docs/protocol.md's client behaviour cites).
 * `random` returns [0, 1) and is injected by tests. Never throws.
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random = Math.random,
): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}

/**
 * The longest Retry-After the agent obeys: an hour (docs/decisions.md, "Bounded waits"). A longer
 * one, however meant, would stop delivery past the point where hours can still be credited.
 */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * Parse a Retry-After header (RFC 9110 §10.2.3: delta seconds or an HTTP date) into ms from
 * `now` (ms since the epoch). Returns undefined when absent or unreadable; 0 for a past date.
 * Uncapped: the client caps it at MAX_RETRY_AFTER_MS.
 */
export function parseRetryAfter(value: string | undefined | null, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
