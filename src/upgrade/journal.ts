/**
 * The upgrade's own journal (upgrade/journal.json in the state directory): which steps are done,
 * when, the script's hash and the log path, so that a second run after an interruption carries
 * on from the first step not done instead of stopping and purging again.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../lib/atomic.js';
import type { StepId } from './steps.js';

export interface StepRecord {
  startedAt: string;
  finishedAt?: string;
  ok?: boolean;
  exitCode?: number | null;
  detail?: string;
}

export interface UpgradeJournal {
  id: string;
  startedAt: string;
  master: string;
  targetVersion: string;
  scriptUrl: string;
  scriptSha256: string;
  logPath: string;
  steps: Partial<Record<StepId, StepRecord>>;
  finishedAt?: string;
  outcome?: 'verified' | 'failed' | 'rolled-back';
}

/** `<stateDir>/upgrade/journal.json`. */
export function journalPath(stateDir: string): string {
  return join(stateDir, 'upgrade', 'journal.json');
}

/** The journal, or null when there is none or it cannot be parsed (then it is started afresh). */
export function readJournal(stateDir: string): UpgradeJournal | null {
  const p = journalPath(stateDir);
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as UpgradeJournal;
  } catch {
    return null;
  }
}

/** Writes the journal atomically (src/lib/atomic.ts). Throws when the state directory is not writable. */
export function writeJournal(stateDir: string, j: UpgradeJournal): void {
  writeFileAtomic(journalPath(stateDir), `${JSON.stringify(j, null, 2)}\n`);
}

/** An interrupted upgrade: started, not finished. */
export function unfinished(j: UpgradeJournal | null): j is UpgradeJournal {
  return j !== null && !j.finishedAt;
}
