/**
 * Ingestion on a worker thread. On a two-core machine one thread cannot both serve HTTP (signature
 * checks, bodies) and write SQLite fast enough; with the store on its own thread the two overlap.
 *
 * The main thread authenticates, parses, validates and fingerprints a batch (readBatch) and sends
 * its reports here as a flat array (thread-codec.ts); the worker does only what needs the
 * database: it groups what arrives together into one commit (GroupCommit) on its own SQLite
 * connection (WAL lets the main thread's connection read and make its rare writes beside it),
 * which holds the GPU claims, and answers each batch after its commit.
 */
import { parentPort, Worker, workerData } from 'node:worker_threads';
import type { ReportResult } from '../protocol/types.js';
import type { Program } from '../program/definitions.js';
import type { Synchronous } from './store.js';
import { GroupCommit, type Ingestor } from './group-commit.js';
import {
  decodeReports,
  decodeResults,
  encodeReports,
  encodeResults,
  type FingerprintedReport,
} from './thread-codec.js';

type Flat = ReturnType<typeof encodeReports>;
interface Job {
  id: number;
  reports: Flat;
  signer: string;
  now: number;
}
type Answer = { id: number; results: Flat } | { id: number; error: string };

/** The HTTP thread's side of the ingest worker: sends batches, resolves each with its results. */
export class WorkerIngestor implements Ingestor {
  private worker: Worker;
  private pending = new Map<
    number,
    { reportIds: string[]; resolve: (r: ReportResult[]) => void; reject: (e: Error) => void }
  >();
  private next = 0;
  private readonly now: () => Date;
  /** Why the worker is gone, once it is: later batches are refused at once instead of waiting forever. */
  private dead: Error | null = null;
  private closing = false;

  /**
   * `onDeath` is told when the worker dies other than by close() (the binary then exits, for its
   * supervisor to restart it).
   */
  constructor(opts: {
    dbPath: string;
    synchronous: Synchronous;
    programs: Program[];
    now: () => Date;
    onDeath?: (e: Error) => void;
  }) {
    this.now = opts.now;
    this.worker = new Worker(new URL(import.meta.url), {
      workerData: { dbPath: opts.dbPath, synchronous: opts.synchronous, programs: opts.programs },
    });
    this.worker.on('message', (a: Answer) => {
      const p = this.pending.get(a.id);
      if (!p) return;
      this.pending.delete(a.id);
      if ('error' in a) p.reject(new Error(a.error));
      else p.resolve(decodeResults(a.results, p.reportIds));
    });
    const die = (e: Error): void => {
      if (this.dead) return;
      this.dead = e;
      this.failAll(e);
      if (!this.closing) opts.onDeath?.(e);
    };
    this.worker.on('error', die);
    this.worker.on('exit', (code) => die(new Error(`the ingest worker exited ${code}`)));
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  submit(reports: FingerprintedReport[], signer: string): Promise<ReportResult[]> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      const id = ++this.next;
      this.pending.set(id, { reportIds: reports.map((r) => r.reportId), resolve, reject });
      this.worker.postMessage({
        id,
        reports: encodeReports(reports),
        signer,
        now: this.now().getTime(),
      } satisfies Job);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.worker.terminate();
  }
}

// The worker's side: runs when this module is loaded as a worker thread.
if (parentPort && workerData?.dbPath) {
  const port = parentPort;
  const { openSqliteStore } = await import('./store.js');
  const store = openSqliteStore(workerData.dbPath as string, workerData.synchronous as Synchronous);
  const group = new GroupCommit(store, workerData.programs as Program[], () => new Date(), true);
  port.on('message', (job: Job) => {
    group.submit(decodeReports(job.reports), job.signer, new Date(job.now)).then(
      (results) =>
        port.postMessage({ id: job.id, results: encodeResults(results) } satisfies Answer),
      (e: Error) => port.postMessage({ id: job.id, error: e.message } satisfies Answer),
    );
  });
}
