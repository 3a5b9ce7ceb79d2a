/**
 * The agent's signed client for the rewards service. Retries 408, 429, 5xx and network errors
 * with exponential backoff and full jitter, honours Retry-After, and never retries other 4xx.
 * Every attempt is drawn from a budget shared by the whole tick, and no attempt starts after the
 * tick's deadline, so a dead service can never make a tick run long.
 * Time is evidence (docs/decisions.md, "Time is evidence"): every answer's Date header updates
 * the service's clock offset, signatures are dated on the service's clock as far as it is known,
 * and a clock-skew refusal is retried once with the offset it reports. Retry-After is obeyed up
 * to MAX_RETRY_AFTER_MS (an hour); a longer one is logged as capped.
 */
import type { RigIdentity } from './identity.js';
import { signRequest } from './signing.js';
import {
  backoffDelay,
  parseRetryAfter,
  DEFAULT_BACKOFF,
  MAX_RETRY_AFTER_MS,
  type BackoffPolicy,
} from '../lib/backoff.js';
import { httpRequest, HttpNetworkError, type HttpResponse } from '../lib/http.js';

export interface AttemptBudget {
  /** Attempts left for this run. */
  attemptsLeft: number;
  /** Epoch ms after which no new attempt starts. */
  deadline: number;
  /** Attempts made, for reporting. */
  made: number;
}

export interface ClientOptions {
  baseUrl: string;
  /** Needed for signed requests only. */
  identity?: RigIdentity;
  timeoutMs: number;
  budget: AttemptBudget;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random?: () => number;
  backoff?: BackoffPolicy;
  /** Called for every attempt's outcome (logging). */
  onAttempt?: (what: string) => void;
  /** Called for what the user should see whatever the verbosity (a capped Retry-After). */
  onWarning?: (line: string) => void;
  /** The service's clock minus ours (ms) as known before this run, or null. */
  offsetMs?: number | null;
}

/** The service could not be reached, or kept failing, within this run's budget. */
export class DeferredError extends Error {
  constructor(
    message: string,
    public readonly retryAt: number | null = null,
  ) {
    super(message);
  }
}

/** The service refused our signature because the clocks differ. */
export class ClockSkewError extends Error {
  constructor(
    public readonly offsetMs: number,
    detail: string,
  ) {
    super(detail);
  }
}

/**
 * A final answer from the service: its status (2xx or a 4xx not retried), the body parsed as
 * JSON (null when empty or not JSON) and the headers.
 */
export interface ServiceAnswer {
  status: number;
  json: unknown;
  headers: Record<string, string | undefined>;
}

const RETRYABLE = (s: number): boolean => s === 408 || s === 429 || s >= 500;

/**
 * The service's clock minus ours, in ms, from an answer's Date header (RFC 9110 §6.6.1: whole
 * seconds, so the midpoint of that second) and our clock when the request left and the answer
 * came (ms since the epoch). Returns null when the header is missing or not a date.
 */
export function offsetFromDate(
  date: string | undefined,
  sentAt: number,
  receivedAt: number,
): number | null {
  const t = date ? Date.parse(date) : NaN;
  if (Number.isNaN(t)) return null;
  return Math.round(t + 500 - (sentAt + receivedAt) / 2);
}

/**
 * The signed client (see the header). `send(method, path, body?, signed = true)` returns the
 * first final answer; throws DeferredError when the budget or the deadline runs out first,
 * ClockSkewError when the service refuses the signature's time even after correcting it.
 */
export class RewardsClient {
  /** The service's clock minus ours (ms), from the latest answer; null until one came. */
  offsetMs: number | null;
  /** Our clock (ms) when offsetMs was last measured in this run; null if no answer came yet. */
  offsetAt: number | null = null;

  constructor(private readonly o: ClientOptions) {
    this.offsetMs = o.offsetMs ?? null;
  }

  /** Our clock corrected by the service's offset as far as it is known (ms since the epoch). */
  serviceNow(): number {
    return this.o.now() + (this.offsetMs ?? 0);
  }

  /**
   * Send one request, retrying as the header says. Returns the first non-retryable answer;
   * throws DeferredError when the budget or deadline runs out, ClockSkewError when the service
   * refuses our clock even after correcting it, and whatever http throws that is not a network error.
   */
  async send(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    signed = true,
  ): Promise<ServiceAnswer> {
    const url = `${this.o.baseUrl}${path}`;
    const text = body === undefined ? undefined : JSON.stringify(body);
    let attempt = 0;
    let skewRetried = false;
    let lastProblem = 'no attempt was made';
    for (;;) {
      const b = this.o.budget;
      if (b.attemptsLeft <= 0) throw new DeferredError(`${lastProblem}; no attempts left this run`);
      if (this.o.now() >= b.deadline)
        throw new DeferredError(`${lastProblem}; this run's time is up`);
      b.attemptsLeft--;
      b.made++;
      const headers: Record<string, string> = { accept: 'application/json' };
      if (text !== undefined) headers['content-type'] = 'application/json';
      if (signed) Object.assign(headers, this.sign(method, url, text));
      let res: HttpResponse | null = null;
      let retryAfterMs: number | undefined;
      const sentAt = this.o.now();
      try {
        res = await httpRequest(url, {
          method,
          headers,
          body: text,
          timeoutMs: Math.max(1, Math.min(this.o.timeoutMs, b.deadline - this.o.now())),
        });
      } catch (e) {
        if (!(e instanceof HttpNetworkError)) throw e;
        lastProblem = e.message;
      }
      if (res) {
        const offset = offsetFromDate(res.headers.date, sentAt, this.o.now());
        if (offset !== null) {
          this.offsetMs = offset;
          this.offsetAt = this.o.now();
        }
        this.o.onAttempt?.(`${method} ${path} -> ${res.status}`);
        let json: unknown = null;
        try {
          json = res.body ? JSON.parse(res.body) : null;
        } catch {
          json = null;
        }
        if (
          res.status === 401 &&
          (json as { type?: string } | null)?.type?.endsWith(':clock-skew')
        ) {
          const serverTime = Date.parse((json as { serverTime?: string }).serverTime ?? '');
          if (!Number.isNaN(serverTime)) {
            this.offsetMs = serverTime - this.o.now();
            this.offsetAt = this.o.now();
          }
          // Dated on the service's clock now: one more try, then the refusal stands.
          if (!skewRetried && this.offsetMs !== null) {
            skewRetried = true;
            continue;
          }
          throw new ClockSkewError(
            this.offsetMs ?? 0,
            (json as { detail?: string }).detail ?? 'clock skew',
          );
        }
        if (!RETRYABLE(res.status)) return { status: res.status, json, headers: res.headers };
        const detail = (json as { detail?: string } | null)?.detail;
        lastProblem = `the service answered ${res.status}${detail ? `: ${detail}` : ''}`;
        retryAfterMs = this.boundedRetryAfter(res.headers['retry-after']);
      } else this.o.onAttempt?.(`${method} ${path} -> ${lastProblem}`);
      const wait =
        retryAfterMs ?? backoffDelay(attempt++, this.o.backoff ?? DEFAULT_BACKOFF, this.o.random);
      const nextAt = this.o.now() + wait;
      if (b.attemptsLeft <= 0 || nextAt >= b.deadline)
        throw new DeferredError(lastProblem, retryAfterMs !== undefined ? nextAt : null);
      await this.o.sleep(wait);
    }
  }

  /** Signature headers dated on the service's clock as far as it is known. */
  private sign(method: string, url: string, body: string | undefined): Record<string, string> {
    const id = this.o.identity;
    if (!id) throw new Error('a signed request needs the rig identity');
    const created = Math.floor(this.serviceNow() / 1000);
    return signRequest({ method, url, body, privateKey: id.privateKey, keyid: id.rigId, created });
  }

  /** Retry-After in ms, capped at MAX_RETRY_AFTER_MS (a longer one is reported as capped). */
  private boundedRetryAfter(value: string | undefined): number | undefined {
    const ms = parseRetryAfter(value, this.serviceNow());
    if (ms === undefined || ms <= MAX_RETRY_AFTER_MS) return ms;
    this.o.onWarning?.(
      `the service asked to wait ${Math.round(ms / 1000)} s (Retry-After: ${value}); ` +
        `waiting at most ${MAX_RETRY_AFTER_MS / 1000} s`,
    );
    return MAX_RETRY_AFTER_MS;
  }
}
