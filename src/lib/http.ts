/**
 * A small JSON-over-HTTP client on node:http/https. The agent's hot path (the 5-minute tick,
 * `check --service`) uses it because loading undici costs ~130 ms of start-up on these machines;
 * `upgrade` uses undici for its streaming download.
 */
import { request as httpRequestRaw } from 'node:http';
import { request as httpsRequestRaw } from 'node:https';

export interface HttpResponse {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

/**
 * The request got no complete answer: `code` says why (deadline, refused, reset, a body over
 * maxBytes, other). An HTTP error status is not this: it resolves as a response.
 */
export class HttpNetworkError extends Error {
  constructor(
    message: string,
    public readonly code: 'timeout' | 'refused' | 'reset' | 'too-large' | 'other',
  ) {
    super(message);
  }
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Whole-request deadline in milliseconds. */
  timeoutMs: number;
  maxBytes?: number;
}

/**
 * One HTTP(S) request to `url` without a connection pool (`agent: false`). Resolves with the
 * status, lower-case headers and the body as UTF-8 text, whatever the status. Rejects with
 * HttpNetworkError when the whole request exceeds `options.timeoutMs` ms, the connection is
 * refused or reset, or the body exceeds `options.maxBytes` (default 16 MiB).
 */
export function httpRequest(url: string, options: HttpOptions): Promise<HttpResponse> {
  const u = new URL(url);
  const fn = u.protocol === 'https:' ? httpsRequestRaw : httpRequestRaw;
  const max = options.maxBytes ?? 16 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    let done = false;
    const fail = (e: HttpNetworkError): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      reject(e);
    };
    const req = fn(
      u,
      { method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > max)
            fail(
              new HttpNetworkError(
                `response from ${u.host} is larger than ${max} bytes`,
                'too-large',
              ),
            );
          else chunks.push(c);
        });
        res.on('end', () => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          const headers: Record<string, string | undefined> = {};
          for (const [k, v] of Object.entries(res.headers))
            headers[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve({
            status: res.statusCode ?? 0,
            headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', (e) =>
          fail(new HttpNetworkError(`connection to ${u.host} broke: ${e.message}`, 'reset')),
        );
        res.on('aborted', () =>
          fail(new HttpNetworkError(`connection to ${u.host} was cut mid-answer`, 'reset')),
        );
      },
    );
    const timer = setTimeout(
      () =>
        fail(
          new HttpNetworkError(
            `${u.host} did not answer within ${Math.round(options.timeoutMs / 1000)} s`,
            'timeout',
          ),
        ),
      options.timeoutMs,
    );
    req.on('error', (e: NodeJS.ErrnoException) => {
      const code =
        e.code === 'ECONNREFUSED'
          ? 'refused'
          : e.code === 'ECONNRESET' || e.code === 'EPIPE'
            ? 'reset'
            : 'other';
      fail(new HttpNetworkError(`cannot reach ${u.host}: ${e.code ?? e.message}`, code));
    });
    if (options.body !== undefined) req.end(options.body);
    else req.end();
  });
}
