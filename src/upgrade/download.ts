/**
 * Fetching SONM's autodeploy script the careful way: not `curl -s` inside `$(…)`, which runs an
 * HTML error page or half a script as root, but a download to a file that must be a complete
 * 200 answer of at most 1 MiB whose first line is a shebang, then hashed and optionally pinned.
 */
import { createHash } from 'node:crypto';
import { transportProblem } from '../lib/url.js';

export const MAX_SCRIPT_BYTES = 1024 * 1024;

export class DownloadError extends Error {}

/** `body` holds the bytes as received: they are what is hashed, saved and run. */
export interface DownloadedScript {
  url: string;
  text: string;
  body: Buffer;
  sha256: string;
  bytes: number;
}

/** Checks on the bytes themselves, pure. Returns what is wrong, or null. */
export function scriptProblem(text: string): string | null {
  if (text.length === 0) return 'the script is empty';
  const first = text.slice(0, text.indexOf('\n') >= 0 ? text.indexOf('\n') : text.length);
  if (!first.startsWith('#!'))
    return `its first line is not a shebang: ${JSON.stringify(first.slice(0, 60))}`;
  const html = /<\s*(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])/i;
  if (html.test(text)) return 'it contains HTML: an error page, not a script';
  if (text.includes('\0')) return 'it contains NUL bytes: not a shell script';
  return null;
}

/**
 * GETs `url` (https, or http to loopback) within `timeoutMs` for headers and for the body.
 * Returns the bytes, their text, SHA-256 (hex) and size. Throws DownloadError, with the reason
 * in one line, for a refused URL, a status other than 200, more than MAX_SCRIPT_BYTES, a body
 * cut short, or bytes that are not a shell script (scriptProblem).
 */
export async function downloadScript(url: string, timeoutMs: number): Promise<DownloadedScript> {
  const problem = transportProblem(url);
  if (problem) throw new DownloadError(problem);
  const { request } = await import('undici'); // loaded only here: it costs ~130 ms of start-up
  let res;
  try {
    const headers = { 'user-agent': 'sonm-rewards' };
    res = await request(url, {
      method: 'GET',
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      headers,
    });
  } catch (e) {
    throw new DownloadError(`cannot fetch ${url}: ${(e as Error).message}`);
  }
  if (res.statusCode !== 200) {
    await res.body.dump().catch(() => undefined);
    const redirected = res.statusCode >= 300 && res.statusCode < 400 && res.headers.location;
    const to = String(res.headers.location);
    const where = redirected ? ` (redirected to ${to}; pass --script-url if you trust it)` : '';
    throw new DownloadError(`${url} answered ${res.statusCode}${where}`);
  }
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > MAX_SCRIPT_BYTES) {
    res.body.destroy();
    throw new DownloadError(
      `${url} is ${declared} bytes; a setup script is at most ${MAX_SCRIPT_BYTES}`,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_SCRIPT_BYTES) {
        res.body.destroy();
        throw new DownloadError(
          `${url} is larger than ${MAX_SCRIPT_BYTES} bytes; a setup script is not`,
        );
      }
      chunks.push(chunk as Buffer);
    }
  } catch (e) {
    if (e instanceof DownloadError) throw e;
    const why = (e as Error).message;
    const what = `the download of ${url} broke off after ${size} bytes (${why})`;
    throw new DownloadError(`${what}: a partial script is never run`);
  }
  const buf = Buffer.concat(chunks);
  const text = buf.toString('utf8');
  const bad = scriptProblem(text);
  if (bad) throw new DownloadError(`${url} is not a shell script: ${bad}`);
  return {
    url,
    text,
    body: buf,
    sha256: createHash('sha256').update(buf).digest('hex'),
    bytes: buf.length,
  };
}
