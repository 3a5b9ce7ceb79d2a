/**
 * Hourly bucketing, pure: samples grouped by aligned UTC hour, and the hourly report each
 * complete hour becomes. docs/decisions.md, "Uptime": the GPU count is the minimum over the
 * hour's connected samples (see also ../shared/docs/rewards-program.md).
 */
import type { HourlyReport, ReportGpu } from '../protocol/types.js';
import { hourOf, reportIdFor } from '../protocol/report-id.js';
import type { Sample } from './sample.js';

/**
 * Samples grouped by the aligned UTC hour of their time `t` (ISO 8601), keyed
 * "YYYY-MM-DDTHH:00:00Z" (hourOf), each list in input order (docs/decisions.md, "Uptime").
 * Pure; throws RangeError when a sample's `t` does not parse as a date.
 */
export function bucketByHour(samples: Sample[]): Map<string, Sample[]> {
  const out = new Map<string, Sample[]>();
  for (const s of samples) {
    const h = hourOf(Date.parse(s.t));
    const list = out.get(h);
    if (list) list.push(s);
    else out.set(h, [s]);
  }
  return out;
}

export interface ReportMeta {
  rigId: string;
  intervalSeconds: number;
  agentVersion: string;
  seq: number;
}

/**
 * The report (docs/protocol.md, "Reports") of `hour` (aligned UTC, ISO 8601) from its samples,
 * by docs/decisions.md, "Uptime": one sample per `meta.intervalSeconds` slot (a connected one wins
 * it), at most 3600 / interval counted; minQualifyingGpus the minimum over the connected samples
 * (0 without one), capped by the qualifying GPUs listed; the GPUs by uuid, sorted; worker and SONM
 * version from the last counted sample. Pure; throws nothing.
 */
export function buildHourlyReport(hour: string, samples: Sample[], meta: ReportMeta): HourlyReport {
  const max = 3600 / meta.intervalSeconds;
  // At most one sample per interval slot counts, so a burst of manual runs cannot inflate an hour.
  const slots = new Map<number, Sample>();
  for (const s of samples) {
    const slot = Math.floor((Date.parse(s.t) - Date.parse(hour)) / (meta.intervalSeconds * 1000));
    const prev = slots.get(slot);
    if (!prev || (!prev.connected && s.connected)) slots.set(slot, s);
  }
  const counted = [...slots.values()].slice(0, max);
  const connected = counted.filter((s) => s.connected);
  const gpus = new Map<string, ReportGpu>();
  for (const s of counted) for (const g of s.gpus) gpus.set(g.uuid, g);
  const last = counted[counted.length - 1];
  return {
    reportId: reportIdFor(meta.rigId, hour),
    rigId: meta.rigId,
    hour,
    intervalSeconds: meta.intervalSeconds,
    samples: counted.length,
    connectedSamples: connected.length,
    // The minimum over the connected samples: a disconnected sample earns nothing anyway.
    minQualifyingGpus: Math.min(
      connected.length ? Math.min(...connected.map((s) => s.qualifying)) : 0,
      [...gpus.values()].filter((g) => g.qualifying).length,
    ),
    gpus: [...gpus.values()].sort((a, b) => a.uuid.localeCompare(b.uuid)),
    workerAddress: last?.worker ?? null,
    sonmVersion: last?.sonmVersion ?? null,
    agentVersion: meta.agentVersion,
    seq: meta.seq,
  };
}

/**
 * Hours with samples and no report yet that ended by `untilMs` (ms since the epoch: both clocks
 * past the hour's end, src/uptime/clock.ts) and can still be credited (`windowMs` from the hour's
 * start, creditWindowMs), oldest first. Pure; throws nothing.
 */
export function hoursToBuild(
  byHour: Map<string, Sample[]>,
  built: ReadonlySet<string>,
  untilMs: number,
  windowMs: number,
): string[] {
  return [...byHour.keys()]
    .filter((h) => {
      const start = Date.parse(h);
      return start + 3_600_000 <= untilMs && !built.has(h) && untilMs - start <= windowMs;
    })
    .sort();
}
