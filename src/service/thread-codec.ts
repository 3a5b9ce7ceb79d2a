/**
 * How report batches and their results cross between the HTTP thread and the ingest worker: as
 * one flat array of strings, numbers, booleans and nulls each way.
 *
 * postMessage copies what it sends (a structured clone). Deserialising 500 reports as objects
 * costs the worker about 2.3 ms here, and as one flat array about 0.8 ms; the worker is the
 * service's bottleneck, so everything that needs no database state (parsing, schema validation,
 * fingerprints) is done on the HTTP thread and only this crosses over.
 */
import type { HourlyReport, ReportResult, ReportStatus } from '../protocol/types.js';

/**
 * A report with what the store needs of its fingerprint (reportFingerprint), computed where it
 * was parsed: the hash of its canonical text, and the canonical text of its GPU list.
 */
export interface FingerprintedReport extends HourlyReport {
  fingerprint: { hash: string; gpus: string };
}

type Flat = (string | number | boolean | null)[];

/** [count, then per report: 13 fields, the GPU count, then 4 fields per GPU]. */
export function encodeReports(reports: readonly FingerprintedReport[]): Flat {
  const out: Flat = [reports.length];
  for (const r of reports) {
    out.push(
      r.reportId,
      r.rigId,
      r.hour,
      r.intervalSeconds,
      r.samples,
      r.connectedSamples,
      r.minQualifyingGpus,
      r.workerAddress,
      r.sonmVersion,
      r.agentVersion,
      r.seq,
      r.fingerprint.hash,
      r.fingerprint.gpus,
      r.gpus.length,
    );
    for (const g of r.gpus) out.push(g.uuid, g.pciDeviceId, g.model, g.qualifying);
  }
  return out;
}

/** The reports again from encodeReports' flat array (the inverse; tested as a round trip). */
export function decodeReports(flat: Flat): FingerprintedReport[] {
  const n = flat[0] as number;
  const out: FingerprintedReport[] = new Array(n);
  let i = 1;
  for (let k = 0; k < n; k++) {
    const r: FingerprintedReport = {
      reportId: flat[i] as string,
      rigId: flat[i + 1] as string,
      hour: flat[i + 2] as string,
      intervalSeconds: flat[i + 3] as number,
      samples: flat[i + 4] as number,
      connectedSamples: flat[i + 5] as number,
      minQualifyingGpus: flat[i + 6] as number,
      gpus: new Array(flat[i + 13] as number),
      workerAddress: flat[i + 7] as string | null,
      sonmVersion: flat[i + 8] as string | null,
      agentVersion: flat[i + 9] as string,
      seq: flat[i + 10] as number,
      fingerprint: { hash: flat[i + 11] as string, gpus: flat[i + 12] as string },
    };
    i += 14;
    for (let g = 0; g < r.gpus.length; g++, i += 4) {
      r.gpus[g] = {
        uuid: flat[i] as string,
        pciDeviceId: flat[i + 1] as string | null,
        model: flat[i + 2] as string | null,
        qualifying: flat[i + 3] as boolean,
      };
    }
    out[k] = r;
  }
  return out;
}

const STATUSES: readonly ReportStatus[] = ['accepted', 'duplicate', 'rejected'];

/** Per result, in the batch's order: status index, reason or null, connected, GPUs, USD. */
export function encodeResults(results: readonly ReportResult[]): Flat {
  const out: Flat = [];
  for (const r of results)
    out.push(
      STATUSES.indexOf(r.status),
      r.reason ?? null,
      r.credited.connected,
      r.credited.gpus,
      r.credited.usd,
    );
  return out;
}

/** The results again, given the report ids of the batch they answer (in the same order). */
export function decodeResults(flat: Flat, reportIds: readonly string[]): ReportResult[] {
  return reportIds.map((reportId, k) => {
    const i = k * 5;
    const reason = flat[i + 1] as string | null;
    return {
      reportId,
      status: STATUSES[flat[i] as number]!,
      ...(reason !== null ? { reason } : {}),
      credited: {
        connected: flat[i + 2] as boolean,
        gpus: flat[i + 3] as number,
        usd: flat[i + 4] as number,
      },
    };
  });
}
