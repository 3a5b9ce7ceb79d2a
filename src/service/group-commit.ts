/** Group commit: how accepted batches reach the store. Loaded by the server and by the ingest worker. */
import type { HourlyReport, ReportResult } from '../protocol/types.js';
import type { Program } from '../program/definitions.js';
import type { RewardsStore } from './store.js';
import { readBatch, type BatchProblem } from './batch.js';

/** Where an authenticated batch goes: its bytes in, per-report results (or why it is refused) out. */
export interface Ingestor {
  submit(body: Uint8Array, signer: string): Promise<ReportResult[] | BatchProblem>;
  close(): Promise<void>;
}

/**
 * Group commit: batches that arrive while the store is busy are ingested together on the next
 * turn of the event loop, in one transaction and one fsync, each in its own savepoint. A batch is
 * still stored whole or not at all, and is answered only after its commit. The batch is parsed
 * and validated here (readBatch), on the thread that ingests it.
 */
export class GroupCommit implements Ingestor {
  private queue: { reports: HourlyReport[]; signer: string; now: Date; resolve: (r: ReportResult[]) => void; reject: (e: Error) => void }[] = [];
  private scheduled = false;
  constructor(private store: Pick<RewardsStore, 'ingestMany'>, private programs: Program[], private now: () => Date) {}

  submit(body: Uint8Array, signer: string, now = this.now()): Promise<ReportResult[] | BatchProblem> {
    const batch = readBatch(body);
    if ('status' in batch) return Promise.resolve(batch);
    return new Promise((resolve, reject) => {
      this.queue.push({ reports: batch.reports, signer, now, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const items = this.queue.splice(0);
    let out: (ReportResult[] | Error)[];
    try {
      out = this.store.ingestMany(items, this.programs);
    } catch (e) {
      for (const it of items) it.reject(e as Error);
      return;
    }
    items.forEach((it, i) => {
      const r = out[i]!;
      if (r instanceof Error) it.reject(r);
      else it.resolve(r);
    });
  }

  async close(): Promise<void> {}
}
