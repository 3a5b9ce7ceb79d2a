/**
 * The agent's signed client for the rewards service. Retries 408, 429, 5xx and network errors
 * with exponential backoff and full jitter, honours Retry-After, and never retries other 4xx.
 * Every attempt is drawn from a budget shared by the whole tick, and no attempt starts after the
 * tick's deadline, so a dead service can never make a tick run long.
 */
import type { RigIdentity } from './identity.js';
import { signRequest } from './signing.js';
import { backoffDelay, parseRetryAfter, DEFAULT_BACKOFF, type BackoffPolicy } from '../lib/backoff.js';
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
  identity: RigIdentity;
  timeoutMs: number;
  budget: AttemptBudget;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random?: () => number;
  backoff?: BackoffPolicy;
  /** Called for every attempt's outcome (logging). */
  onAttempt?: (what: string) => void;
}

/** The service could not be reached, or kept failing, within this run's budget. */
export class DeferredError extends Error {
  constructor(message: string, public readonly retryAt: number | null = null) {
    super(message);
  }
}

/** The service refused our signature because the clocks differ. */
export class ClockSkewError extends Error {
  constructor(public readonly offsetMs: number, detail: string) {
    super(detail);
  }
}

/**
 * A final answer from the service: its status (2xx or a 4xx not retried), the body parsed as
 * JSON (null when empty or not JSON) and the headers.
 */
export interface ServiceAnswer { status: number; json: unknown; headers: Record<string, string | undefined> }

const RETRYABLE = (s: number): boolean => s === 408 || s === 429 || s >= 500;

/**
 * The signed client (see the header). `send(method, path, body?, signed = true)` returns the
 * first final answer; throws DeferredError when the budget or the deadline runs out first,
 * ClockSkewError when the service refuses the signature's time.
 */
export class RewardsClient {
  constructor(private readonly o: ClientOptions) {}

  async send(method: 'GET' | 'POST', path: string, body?: unknown, signed = true): Promise<ServiceAnswer> {
    const url = `${this.o.baseUrl}${path}`;
    const text = body === undefined ? undefined : JSON.stringify(body);
    let attempt = 0;
    let lastProblem = 'no attempt was made';
    for (;;) {
      const b = this.o.budget;
      if (b.attemptsLeft <= 0) throw new DeferredError(`${lastProblem}; no attempts left this run`);
      if (this.o.now() >= b.deadline) throw new DeferredError(`${lastProblem}; this run's time is up`);
      b.attemptsLeft--;
      b.made++;
      const headers: Record<string, string> = { accept: 'application/json' };
      if (text !== undefined) headers['content-type'] = 'application/json';
      if (signed) Object.assign(headers, signRequest({ method, url, body: text, privateKey: this.o.identity.privateKey, keyid: this.o.identity.rigId, created: Math.floor(this.o.now() / 1000) }));
      let res: HttpResponse | null = null;
      let retryAfterMs: number | undefined;
      try {
        res = await httpRequest(url, { method, headers, body: text, timeoutMs: Math.max(1, Math.min(this.o.timeoutMs, b.deadline - this.o.now())) });
      } catch (e) {
        if (!(e instanceof HttpNetworkError)) throw e;
        lastProblem = e.message;
      }
      if (res) {
        this.o.onAttempt?.(`${method} ${path} -> ${res.status}`);
        let json: unknown = null;
        try {
          json = res.body ? JSON.parse(res.body) : null;
        } catch {
          json = null;
        }
        if (res.status === 401 && (json as { type?: string } | null)?.type?.endsWith(':clock-skew')) {
          const serverTime = Date.parse((json as { serverTime?: string }).serverTime ?? res.headers.date ?? '');
          const offset = Number.isNaN(serverTime) ? 0 : serverTime - this.o.now();
          throw new ClockSkewError(offset, (json as { detail?: string }).detail ?? 'clock skew');
        }
        if (!RETRYABLE(res.status)) return { status: res.status, json, headers: res.headers };
        lastProblem = `the service answered ${res.status}${(json as { detail?: string } | null)?.detail ? `: ${(json as { detail: string }).detail}` : ''}`;
        retryAfterMs = parseRetryAfter(res.headers['retry-after'], this.o.now());
      } else this.o.onAttempt?.(`${method} ${path} -> ${lastProblem}`);
      const wait = retryAfterMs ?? backoffDelay(attempt++, this.o.backoff ?? DEFAULT_BACKOFF, this.o.random);
      const nextAt = this.o.now() + wait;
      if (b.attemptsLeft <= 0 || nextAt >= b.deadline) throw new DeferredError(lastProblem, retryAfterMs !== undefined ? nextAt : null);
      await this.o.sleep(wait);
    }
  }
}
