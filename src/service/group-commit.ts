/** Group commit: how accepted batches reach the store. Loaded by the server and by the ingest worker. */
import type { ReportResult } from '../protocol/types.js';
import type { Program } from '../program/definitions.js';
import type { RewardsStore } from './store.js';
import type { FingerprintedReport } from './thread-codec.js';

/** Where an authenticated, validated batch goes: its reports in, a result per report out. */
export interface Ingestor {
  submit(reports: FingerprintedReport[], signer: string): Promise<ReportResult[]>;
  close(): Promise<void>;
}

/**
 * Group commit: batches that arrive while the store is busy are ingested together on the next
 * turn of the event loop, in one transaction and one fsync, each in its own savepoint. A batch is
 * still stored whole or not at all, and is answered only after its commit.
 */
export class GroupCommit implements Ingestor {
  private queue: { reports: FingerprintedReport[]; signer: string; now: Date; resolve: (r: ReportResult[]) => void; reject: (e: Error) => void }[] = [];
  private scheduled = false;
  constructor(private store: Pick<RewardsStore, 'ingestMany'>, private programs: Program[], private now: () => Date) {}

  submit(reports: FingerprintedReport[], signer: string, now = this.now()): Promise<ReportResult[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ reports, signer, now, resolve, reject });
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
