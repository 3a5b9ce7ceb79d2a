/**
 * The one writer of a service database: `<db>.lock` beside the file, held by the service, or by
 * the operator's command when no service runs (docs/decisions.md: the ingest worker keeps the
 * GPU claims in memory, so two writers on one file could pay a uuid twice).
 */
import { basename, dirname, resolve } from 'node:path';
import { acquireLock, type Lock } from '../lib/lock.js';

/**
 * Take the lock of the SQLite database at `dbPath` (a file path; not ':memory:'). A holder that
 * died is taken over (src/lib/lock.ts); a live one is never judged stale by age. Returns the held
 * Lock. Throws LockBusyError (with `holder.pid`) while another process holds it, or the fs error.
 */
export function lockDatabase(dbPath: string): Lock {
  return acquireLock(dirname(resolve(dbPath)), 'rewards service', {
    file: `${basename(dbPath)}.lock`,
    maxAgeMs: Infinity,
  });
}
