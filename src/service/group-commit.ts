/** Group commit: how accepted batches reach the store. Loaded by the server and by the ingest worker. */
import type { ReportResult } from '../protocol/types.js';
import type { Program } from '../program/definitions.js';
import type { RewardsStore } from './store.js';
import type { FingerprintedReport } from './thread-codec.js';

/** How often queued operator actions are looked for, in ms. */
export const ACTION_POLL_MS = 500;

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
  private queue: {
    reports: FingerprintedReport[];
    signer: string;
    now: Date;
    resolve: (r: ReportResult[]) => void;
    reject: (e: Error) => void;
  }[] = [];
  private scheduled = false;
  private timer: NodeJS.Timeout | null = null;

  /**
   * `store`: where batches go; `programs` credit them; `now` stamps them. With `pollActions`,
   * operator actions queued in the database (src/service/operator.ts) are applied every
   * ACTION_POLL_MS even when no report arrives (each group commit applies them first anyway).
   */
  constructor(
    private store: Pick<RewardsStore, 'ingestMany' | 'applyActions'>,
    private programs: Program[],
    private now: () => Date,
    pollActions = false,
  ) {
    if (pollActions) {
      this.timer = setInterval(() => {
        try {
          this.store.applyActions(this.programs, this.now());
        } catch {
          // The database is busy or closing: the next poll or group commit applies them.
        }
      }, ACTION_POLL_MS);
      this.timer.unref();
    }
  }

  submit(
    reports: FingerprintedReport[],
    signer: string,
    now = this.now(),
  ): Promise<ReportResult[]> {
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

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
  }
}
