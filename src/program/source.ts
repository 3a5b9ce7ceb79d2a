/**
 * Where program definitions come from, in order: --programs FILE; the service's GET /v1/programs
 * (cached with its ETag in the state directory); the cached copy when the service is down; the
 * built-in first program.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtInPrograms, parsePrograms, ProgramsFormatError, type Program } from './definitions.js';
import { UsageError } from '../lib/errors.js';
import { writeFileAtomic } from '../lib/atomic.js';

export type ProgramsSource = 'file' | 'service' | 'cache' | 'built-in';

export interface LoadedPrograms {
  programs: Program[];
  source: ProgramsSource;
  /** Why a better source was not used (service down, bad cache). */
  warning: string | null;
}

export function loadProgramsFile(path: string): Program[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read --programs ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return parsePrograms(JSON.parse(text));
  } catch (e) {
    if (e instanceof SyntaxError) throw new UsageError(`--programs ${path} is not valid JSON: ${e.message}`);
    if (e instanceof ProgramsFormatError) throw new UsageError(`--programs ${path} is not a valid program definition: ${e.message}`);
    throw e;
  }
}

interface CacheFile { etag: string | null; fetchedAt: string; body: unknown }

export interface CachedFetch { body: unknown; source: 'service' | 'cache'; warning: string | null }

/**
 * GET a read-only document from the service with If-None-Match, keeping the last good answer in
 * the state directory; on failure fall back to that copy. `accept` validates the body (it throws
 * on a bad one). Returns null with a warning when neither the service nor a cache answers.
 */
export async function fetchWithCache(opts: { service: string; path: string; cacheFile: string; timeoutMs: number; now: Date; accept: (body: unknown) => void }): Promise<CachedFetch | { body: null; warning: string }> {
  let cache: CacheFile | null = null;
  try {
    cache = JSON.parse(readFileSync(opts.cacheFile, 'utf8')) as CacheFile;
    opts.accept(cache.body);
  } catch {
    cache = null;
  }
  let warning: string;
  try {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (cache?.etag) headers['if-none-match'] = cache.etag;
    const { httpRequest } = await import('../lib/http.js'); // only when there is a service to ask
    const res = await httpRequest(`${opts.service}${opts.path}`, { headers, timeoutMs: opts.timeoutMs, maxBytes: 1 << 20 });
    if (res.status === 304 && cache) return { body: cache.body, source: 'service', warning: null };
    if (res.status === 200) {
      const body = JSON.parse(res.body);
      opts.accept(body);
      try {
        writeFileAtomic(opts.cacheFile, JSON.stringify({ etag: res.headers.etag ?? null, fetchedAt: opts.now.toISOString(), body }));
      } catch {
        // A read-only state directory must not stop the command.
      }
      return { body, source: 'service', warning: null };
    }
    warning = `the service answered ${res.status} for ${opts.path}`;
  } catch (e) {
    warning = `cannot load ${opts.path} from ${opts.service}: ${(e as Error).message}`;
  }
  if (cache) return { body: cache.body, source: 'cache', warning: `${warning}; using the copy cached at ${cache.fetchedAt}` };
  return { body: null, warning };
}

/** How old the cached program definitions are, in ms (Infinity when there is no cache). */
export function programsCacheAge(stateDir: string, now: Date): number {
  try {
    const c = JSON.parse(readFileSync(join(stateDir, 'programs-cache.json'), 'utf8')) as CacheFile;
    return now.getTime() - Date.parse(c.fetchedAt);
  } catch {
    return Infinity;
  }
}

export async function loadPrograms(opts: { file?: string; service: string | null; stateDir: string; timeoutMs: number; now: Date }): Promise<LoadedPrograms> {
  if (opts.file) return { programs: loadProgramsFile(opts.file), source: 'file', warning: null };
  if (!opts.service) {
    // Without a service, the copy cached by an earlier run (if any) beats the built-in definition.
    try {
      const cached = JSON.parse(readFileSync(join(opts.stateDir, 'programs-cache.json'), 'utf8')) as CacheFile;
      return { programs: parsePrograms(cached.body), source: 'cache', warning: null };
    } catch {
      return { programs: builtInPrograms(), source: 'built-in', warning: null };
    }
  }
  const r = await fetchWithCache({ service: opts.service, path: '/v1/programs', cacheFile: join(opts.stateDir, 'programs-cache.json'), timeoutMs: opts.timeoutMs, now: opts.now, accept: (b) => void parsePrograms(b) });
  if (r.body !== null) return { programs: parsePrograms(r.body), source: (r as CachedFetch).source, warning: r.warning };
  return { programs: builtInPrograms(), source: 'built-in', warning: `${r.warning}; using the built-in program` };
}
