/**
 * Where program definitions come from, in order: --programs FILE; the service's GET /v1/programs
 * (cached with its ETag in the state directory); the cached copy when the service is down; the
 * built-in first program.
 */
import { join } from 'node:path';
import {
  builtInPrograms,
  parsePrograms,
  ProgramsFormatError,
  type Program,
} from './definitions.js';
import { UsageError } from '../lib/errors.js';
import { writeFileAtomic } from '../lib/atomic.js';
import { JsonFileError, readJsonFile, readJsonFileOrUndefined } from '../lib/json-file.js';

export type ProgramsSource = 'file' | 'service' | 'cache' | 'built-in';

export interface LoadedPrograms {
  programs: Program[];
  source: ProgramsSource;
  /** Why a better source was not used (service down, bad cache). */
  warning: string | null;
}

/**
 * The program definitions in the --programs file at `path` (format: docs/programs.md).
 * Throws UsageError (exit 2) when the file is missing, unreadable, not JSON or not a valid
 * definition; returns the parsed programs otherwise.
 */
export function loadProgramsFile(path: string): Program[] {
  try {
    return parsePrograms(readJsonFile(path, '--programs'));
  } catch (e) {
    if (e instanceof JsonFileError) throw new UsageError(e.message);
    if (e instanceof ProgramsFormatError) {
      throw new UsageError(`--programs ${path} is not a valid program definition: ${e.message}`);
    }
    throw e;
  }
}

/** What fetchWithCache keeps in the state directory: the last good answer and its ETag. */
interface CacheFile {
  etag: string | null;
  fetchedAt: string;
  body: unknown;
}

/** The programs cache's file in a state directory. */
const PROGRAMS_CACHE = 'programs-cache.json';

/**
 * The cache file at `path` when it is there and has the shape fetchWithCache writes; null
 * otherwise (missing, damaged or foreign: a cache is only ever a fallback). Never throws.
 */
function readCache(path: string): CacheFile | null {
  const v = readJsonFileOrUndefined(path) as Partial<CacheFile> | undefined;
  if (!v || typeof v !== 'object' || typeof v.fetchedAt !== 'string' || !('body' in v)) return null;
  return { etag: typeof v.etag === 'string' ? v.etag : null, fetchedAt: v.fetchedAt, body: v.body };
}

export interface CachedFetch {
  body: unknown;
  source: 'service' | 'cache';
  warning: string | null;
}

/**
 * GET a read-only document from the service with If-None-Match, keeping the last good answer in
 * the state directory; on failure fall back to that copy. `accept` validates the body (it throws
 * on a bad one). Returns null with a warning when neither the service nor a cache answers.
 */
export async function fetchWithCache(opts: {
  service: string;
  path: string;
  cacheFile: string;
  timeoutMs: number;
  now: Date;
  accept: (body: unknown) => void;
}): Promise<CachedFetch | { body: null; warning: string }> {
  let cache = readCache(opts.cacheFile);
  try {
    if (cache) opts.accept(cache.body);
  } catch {
    cache = null;
  }
  let warning: string;
  try {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (cache?.etag) headers['if-none-match'] = cache.etag;
    const { httpRequest } = await import('../lib/http.js'); // only when there is a service to ask
    const res = await httpRequest(`${opts.service}${opts.path}`, {
      headers,
      timeoutMs: opts.timeoutMs,
      maxBytes: 1 << 20,
    });
    if (res.status === 304 && cache) return { body: cache.body, source: 'service', warning: null };
    if (res.status === 200) {
      const body = JSON.parse(res.body);
      opts.accept(body);
      try {
        writeFileAtomic(
          opts.cacheFile,
          JSON.stringify({
            etag: res.headers.etag ?? null,
            fetchedAt: opts.now.toISOString(),
            body,
          }),
        );
      } catch {
        // A read-only state directory must not stop the command.
      }
      return { body, source: 'service', warning: null };
    }
    warning = `the service answered ${res.status} for ${opts.path}`;
  } catch (e) {
    warning = `cannot load ${opts.path} from ${opts.service}: ${(e as Error).message}`;
  }
  if (cache)
    return {
      body: cache.body,
      source: 'cache',
      warning: `${warning}; using the copy cached at ${cache.fetchedAt}`,
    };
  return { body: null, warning };
}

/**
 * How old the program definitions cached in `stateDir` are at `now`, in ms (Infinity when there
 * is no readable cache). Throws nothing.
 */
export function programsCacheAge(stateDir: string, now: Date): number {
  const cache = readCache(join(stateDir, PROGRAMS_CACHE));
  const fetched = cache ? Date.parse(cache.fetchedAt) : NaN;
  return Number.isNaN(fetched) ? Infinity : now.getTime() - fetched;
}

/**
 * The program definitions and their source (this file's header; docs/programs.md): the `file`
 * (--programs) when given; without a `service`, the copy cached in `stateDir`, else the built-in
 * program; with one, its GET /v1/programs (ETag, `timeoutMs` ms), else that cache, else the
 * built-in program, with a `warning` saying why. Throws UsageError (exit 2) for a bad --programs
 * file; a broken built-in programs/default.json throws its fs error or ProgramsFormatError.
 */
export async function loadPrograms(opts: {
  file?: string;
  service: string | null;
  stateDir: string;
  timeoutMs: number;
  now: Date;
}): Promise<LoadedPrograms> {
  if (opts.file) return { programs: loadProgramsFile(opts.file), source: 'file', warning: null };
  if (!opts.service) {
    // Without a service, the copy cached by an earlier run (if any) beats the built-in definition.
    const cached = readCache(join(opts.stateDir, PROGRAMS_CACHE));
    try {
      if (cached) return { programs: parsePrograms(cached.body), source: 'cache', warning: null };
    } catch {
      // A cache that no longer parses as programs: fall through to the built-in definition.
    }
    return { programs: builtInPrograms(), source: 'built-in', warning: null };
  }
  const r = await fetchWithCache({
    service: opts.service,
    path: '/v1/programs',
    cacheFile: join(opts.stateDir, PROGRAMS_CACHE),
    timeoutMs: opts.timeoutMs,
    now: opts.now,
    accept: (b) => void parsePrograms(b),
  });
  if (r.body !== null)
    return {
      programs: parsePrograms(r.body),
      source: (r as CachedFetch).source,
      warning: r.warning,
    };
  return {
    programs: builtInPrograms(),
    source: 'built-in',
    warning: `${r.warning}; using the built-in program`,
  };
}
