/**
 * Ingestion on a worker thread. On a two-core machine one thread cannot both serve HTTP (signature
 * checks, bodies) and write SQLite fast enough; with the store on its own thread the two overlap.
 *
 * The main thread authenticates a batch and transfers its bytes here without parsing them; the
 * worker parses and validates them (readBatch), groups what arrives together into one commit
 * (GroupCommit) on its own SQLite connection (WAL lets the main thread's connection read and make
 * its rare writes beside it), and answers each batch after its commit.
 */
import { parentPort, Worker, workerData } from 'node:worker_threads';
import type { ReportResult } from '../protocol/types.js';
import type { Program } from '../program/definitions.js';
import type { Synchronous } from './store.js';
import type { BatchProblem } from './batch.js';
import { GroupCommit, type Ingestor } from './group-commit.js';

interface Job { id: number; body: ArrayBuffer; signer: string; now: number }
type Answer = { id: number; results: ReportResult[] | BatchProblem } | { id: number; error: string };

/** The body's bytes as an ArrayBuffer of their own, so it can be transferred rather than copied. */
function ownBuffer(body: Uint8Array): ArrayBuffer {
  const whole = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
  // Small Buffers share Node's pool with other data: copy those, never detach the pool.
  return (whole ? body.buffer : body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength)) as ArrayBuffer;
}

export class WorkerIngestor implements Ingestor {
  private worker: Worker;
  private pending = new Map<number, { resolve: (r: ReportResult[] | BatchProblem) => void; reject: (e: Error) => void }>();
  private next = 0;
  private readonly now: () => Date;

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

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  submit(body: Uint8Array, signer: string): Promise<ReportResult[] | BatchProblem> {
    return new Promise((resolve, reject) => {
      const id = ++this.next;
      this.pending.set(id, { resolve, reject });
      const buf = ownBuffer(body);
      this.worker.postMessage({ id, body: buf, signer, now: this.now().getTime() } satisfies Job, [buf]);
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
    group.submit(new Uint8Array(job.body), job.signer, new Date(job.now)).then(
      (results) => port.postMessage({ id: job.id, results } satisfies Answer),
      (e: Error) => port.postMessage({ id: job.id, error: e.message } satisfies Answer),
    );
  });
}
