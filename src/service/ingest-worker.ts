/**
 * Ingestion on a worker thread. On a two-core machine the service's main thread spends about half
 * of each batch on HTTP, signature checks and validation, the other half in SQLite; with the
 * store on its own thread the two halves of consecutive requests overlap.
 *
 * The worker owns one SQLite connection (WAL lets the main thread's connection read and make its
 * rare writes beside it), groups what arrives together into one commit (GroupCommit), and answers
 * each batch after its commit. The main thread sends the body's text, already authenticated and
 * validated; parsing it again here is cheaper than cloning the parsed objects across threads.
 */
import { parentPort, Worker, workerData } from 'node:worker_threads';
import type { HourlyReport, ReportResult } from '../protocol/types.js';
import type { Program } from '../program/definitions.js';
import type { Synchronous } from './store.js';
import { GroupCommit, type Ingestor } from './group-commit.js';

interface Job { id: number; text: string; signer: string; now: number }
type Answer = { id: number; results: ReportResult[] } | { id: number; error: string };

export class WorkerIngestor implements Ingestor {
  private worker: Worker;
  private pending = new Map<number, { resolve: (r: ReportResult[]) => void; reject: (e: Error) => void }>();
  private next = 0;
  constructor(opts: { dbPath: string; synchronous: Synchronous; programs: Program[]; now: () => Date }) {
    this.now = opts.now;
    this.worker = new Worker(new URL(import.meta.url), { workerData: { dbPath: opts.dbPath, synchronous: opts.synchronous, programs: opts.programs } });
    this.worker.on('message', (a: Answer) => {
      const p = this.pending.get(a.id);
      if (!p) return;
      this.pending.delete(a.id);
      if ('error' in a) p.reject(new Error(a.error));
      else p.resolve(a.results);
    });
    this.worker.on('error', (e) => this.failAll(e));
    this.worker.on('exit', (code) => this.failAll(new Error(`the ingest worker exited ${code}`)));
  }
  private now: () => Date;
  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
  submit(_reports: HourlyReport[], signer: string, text: string): Promise<ReportResult[]> {
    return new Promise((resolve, reject) => {
      const id = ++this.next;
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, text, signer, now: this.now().getTime() } satisfies Job);
    });
  }
  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

// The worker's side: runs when this module is loaded as a worker thread.
if (parentPort && workerData?.dbPath) {
  const port = parentPort;
  const { openSqliteStore } = await import('./store.js');
  const store = openSqliteStore(workerData.dbPath as string, workerData.synchronous as Synchronous);
  const group = new GroupCommit(store, workerData.programs as Program[], () => new Date());
  port.on('message', (job: Job) => {
    let reports: HourlyReport[];
    try {
      reports = (JSON.parse(job.text) as { reports: HourlyReport[] }).reports;
    } catch (e) {
      port.postMessage({ id: job.id, error: (e as Error).message } satisfies Answer);
      return;
    }
    group.submit(reports, job.signer, job.text, new Date(job.now)).then(
      (results) => port.postMessage({ id: job.id, results } satisfies Answer),
      (e: Error) => port.postMessage({ id: job.id, error: e.message } satisfies Answer),
    );
  });
}
