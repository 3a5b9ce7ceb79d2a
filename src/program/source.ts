/**
 * Where program definitions come from, in order: --programs FILE; the service's GET /v1/programs
 * (cached with its ETag in the state directory); the cached copy when the service is down; the
 * built-in first program.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtInPrograms, parsePrograms, ProgramsFormatError, type Program } from './definitions.js';
import { UsageError } from '../cli/errors.js';
import { httpRequest } from '../lib/http.js';
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

export async function loadPrograms(opts: { file?: string; service: string | null; stateDir: string; timeoutMs: number; now: Date }): Promise<LoadedPrograms> {
  if (opts.file) return { programs: loadProgramsFile(opts.file), source: 'file', warning: null };
  if (!opts.service) return { programs: builtInPrograms(), source: 'built-in', warning: null };
  const cachePath = join(opts.stateDir, 'programs-cache.json');
  let cache: CacheFile | null = null;
  try {
    cache = JSON.parse(readFileSync(cachePath, 'utf8')) as CacheFile;
  } catch {
    cache = null;
  }
  let warning: string;
  try {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (cache?.etag) headers['if-none-match'] = cache.etag;
    const res = await httpRequest(`${opts.service}/v1/programs`, { headers, timeoutMs: opts.timeoutMs, maxBytes: 1 << 20 });
    if (res.status === 304 && cache) return { programs: parsePrograms(cache.body), source: 'service', warning: null };
    if (res.status === 200) {
      const body = JSON.parse(res.body);
      const programs = parsePrograms(body);
      try {
        writeFileAtomic(cachePath, JSON.stringify({ etag: res.headers.etag ?? null, fetchedAt: opts.now.toISOString(), body }));
      } catch {
        // A read-only state directory must not stop a check.
      }
      return { programs, source: 'service', warning: null };
    }
    warning = `the service answered ${res.status} for /v1/programs`;
  } catch (e) {
    warning = `cannot load programs from ${opts.service}: ${(e as Error).message}`;
  }
  if (cache) {
    try {
      return { programs: parsePrograms(cache.body), source: 'cache', warning: `${warning}; using the copy cached at ${cache.fetchedAt}` };
    } catch {
      // fall through to the built-in definition
    }
  }
  return { programs: builtInPrograms(), source: 'built-in', warning: `${warning}; using the built-in program` };
}
