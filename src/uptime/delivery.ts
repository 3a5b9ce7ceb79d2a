/**
 * Delivery: enrol when needed, send the eligibility verdict when it changed (or daily), then
 * every pending hourly report in batches. Each per-report answer is stored; `accepted` and
 * `duplicate` are final, `rejected` is kept aside with its reason and never resent as it is,
 * except `hour-not-ended`: the service's clock had not passed the hour yet, so the report stays
 * pending and is sent again (docs/decisions.md, "Time is evidence"). Only hours that both clocks
 * have passed (`sendUntil`) and that can still be credited (`windowMs`) are sent.
 */
import type { ReportResult } from '../protocol/types.js';
import { MAX_BATCH } from '../protocol/types.js';
import type { RigIdentity } from '../protocol/identity.js';
import { ClockSkewError, DeferredError, type RewardsClient } from '../protocol/client.js';
import type { CheckResult } from '../program/result.js';
import { readConfiguredMaster } from '../lib/sonm-config.js';
import { gpuSetKey } from './verdict.js';
import { pendingReports, type AgentState, type ResultRecord, type UptimeStore } from './store.js';
import { acceptResults, pinServiceKey, ReceiptError } from './receipts.js';
import type { ReceiptHead } from '../protocol/receipt.js';
import { DAY_MS } from '../lib/time.js';

/** The service's reason for an hour its clock has not passed: retryable, never final. */
export const HOUR_NOT_ENDED = 'hour-not-ended';

export interface DeliveryInput {
  store: UptimeStore;
  client: RewardsClient;
  identity: RigIdentity;
  service: string;
  agentVersion: string;
  /** Master address to enrol with (worker-default.yaml, or --master). */
  master: string | null;
  check: CheckResult | null;
  /** What the tick saw when this verdict was made (recorded with it, to notice a change). */
  seen?: { qualifying: number; gpusKey: string; programsKey: string };
  /** Send only hours that ended by this time (ms since the epoch; TimeView.buildUntil). */
  sendUntil?: number;
  /** How long after its start an hour can be credited (creditWindowMs). */
  windowMs?: number;
  now: () => Date;
  log: (line: string) => void;
  /** A new service key id the supplier confirmed (`enroll --accept-service-key`). */
  acceptServiceKey?: string | null;
}

export interface DeliveryOutcome {
  enrolled: boolean;
  eligibilitySent: boolean;
  delivered: number;
  rejected: ResultRecord[];
  pending: number;
  deferred: string | null;
}

/**
 * The master address to enrol with: the one given, else SONM's own configuration
 * (worker-default.yaml), else the one the rig already enrolled with, else what the worker reports
 * (README, "Uptime", `enroll`); null when none. Throws nothing.
 */
export function masterToEnrol(
  given: string | null | undefined,
  sonmConfigDir: string,
  state: AgentState,
  workerMaster: string | null | undefined,
): string | null {
  return (
    given ??
    readConfiguredMaster(sonmConfigDir).master ??
    state.enrolled?.master ??
    workerMaster ??
    null
  );
}

/**
 * What identifies a verdict worth re-sending: eligibility, the qualifying GPUs (the set, by uuid
 * and PCI id, not only their number: src/uptime/verdict.ts), per-program qualification; as a
 * JSON string. docs/decisions.md, "Uptime" (What a tick probes). Pure; throws nothing.
 */
export function eligibilityKey(c: CheckResult): string {
  const set = gpuSetKey(
    c.gpus.map((g) => ({
      uuid: g.uuid ?? '',
      pciDeviceId: g.pciDeviceId,
      qualifying: g.qualifying,
    })),
  );
  return JSON.stringify([
    c.eligible,
    c.reward.qualifyingGpus,
    set,
    c.programs.map((p) => [p.id, p.qualifies]),
  ]);
}

function hardwareSummary(c: CheckResult | null): Record<string, unknown> {
  if (!c) return {};
  return {
    qualifyingGpus: c.reward.qualifyingGpus,
    gpus: c.gpus.map((g) => ({ model: g.model, pciDeviceId: g.pciDeviceId, uuid: g.uuid })),
    checks: Object.fromEntries(c.checks.map((x) => [x.id, x.actual])),
  };
}

/**
 * Enrol the rig (POST /v1/rigs, docs/protocol.md) unless `state` records an enrolment with this
 * service and rig id and a pinned service key (and no key is being accepted). On 200/201 pins the
 * service key, records the enrolment and clears the sent verdict, in `state` (mutated; the caller
 * saves it). Returns true when it enrolled, false when it had no need to. Throws DeferredError
 * when no master is known; Error "enrolment refused: …" on 409, "enrolment failed: …" on any
 * other answer; ReceiptError from pinServiceKey; the client's errors (ClockSkewError,
 * DeferredError, network).
 */
export async function ensureEnrolled(inp: DeliveryInput, state: AgentState): Promise<boolean> {
  // Enrolment also pins the service's key: an enrolment made before receipts is made again.
  const pinned = Boolean(state.serviceKey) && !inp.acceptServiceKey;
  if (
    state.enrolled &&
    state.enrolled.service === inp.service &&
    state.enrolled.rigId === inp.identity.rigId &&
    pinned
  )
    return false;
  if (!inp.master)
    throw new DeferredError(
      'no master address is known to enrol with: run `sonm-rewards enroll --master 0x…`',
    );
  const res = await inp.client.send('POST', '/v1/rigs', {
    publicKey: inp.identity.publicKey,
    masterAddress: inp.master,
    workerAddress: inp.check?.sonm.worker?.address ?? null,
    agentVersion: inp.agentVersion,
    hardware: hardwareSummary(inp.check),
  });
  if (res.status === 200 || res.status === 201) {
    pinServiceKey(state, res.json, inp.service, inp.now(), inp.acceptServiceKey ?? null);
    state.enrolled = {
      service: inp.service,
      rigId: inp.identity.rigId,
      master: inp.master,
      at: inp.now().toISOString(),
    };
    state.eligibility = null; // a fresh enrolment gets the verdict at once
    inp.log(`enrolled rig ${inp.identity.rigId} with ${inp.service} (master ${inp.master})`);
    return true;
  }
  const detail = (res.json as { detail?: string } | null)?.detail ?? `status ${res.status}`;
  throw new Error(
    res.status === 409 ? `enrolment refused: ${detail}` : `enrolment failed: ${detail}`,
  );
}

/**
 * Send `inp.check` (POST /v1/eligibility, docs/protocol.md, "Eligibility") when due: `force`, none
 * sent yet, its eligibilityKey differs from the last one sent, or that was a day or more ago
 * (README, "Uptime", `enroll`; docs/decisions.md, "Uptime", What a tick probes). Records what was
 * sent, or what the tick saw when unchanged, in `state` (mutated). Returns true when sent, false
 * without a check or when not due. Throws Error "eligibility refused: …" unless the service
 * answers 200 or 204, and the client's errors.
 */
export async function sendEligibilityIfDue(
  inp: DeliveryInput,
  state: AgentState,
  force = false,
): Promise<boolean> {
  if (!inp.check) return false;
  const key = eligibilityKey(inp.check);
  const age = state.eligibility
    ? inp.now().getTime() - Date.parse(state.eligibility.sentAt)
    : Infinity;
  if (!force && state.eligibility?.key === key && age < DAY_MS) {
    // Re-checked and unchanged: remember what was seen, so the next tick does not re-check again.
    if (inp.seen)
      state.eligibility = {
        ...state.eligibility,
        qualifyingSeen: inp.seen.qualifying,
        gpusSeen: inp.seen.gpusKey,
        programsKey: inp.seen.programsKey,
      };
    return false;
  }
  const res = await inp.client.send('POST', '/v1/eligibility', inp.check);
  if (res.status !== 204 && res.status !== 200)
    throw new Error(
      `eligibility refused: ${(res.json as { detail?: string } | null)?.detail ?? res.status}`,
    );
  state.eligibility = {
    key,
    sentAt: inp.now().toISOString(),
    qualifyingSeen: inp.seen?.qualifying ?? inp.check.reward.qualifyingGpus,
    gpusSeen: inp.seen?.gpusKey ?? null,
    programsKey: inp.seen?.programsKey ?? null,
  };
  return true;
}

/**
 * One tick's delivery (this file's header; README, "Uptime", `report`; docs/decisions.md,
 * "Uptime"): unless a Retry-After still runs, enrol, send the verdict when due, then the pending
 * reports in batches (at most MAX_BATCH; halved on 400/413; a lone bad report kept as rejected),
 * storing each answer whose receipts verify. Saves the state (clock offset, last error, retry
 * time, batch size); returns the counts and why delivery stopped early (`deferred`). Service and
 * network failures go into `deferred`; throws only fs errors reading the store or saving state.
 */
export async function deliver(inp: DeliveryInput): Promise<DeliveryOutcome> {
  const { store } = inp;
  const state = store.state();
  const outcome: DeliveryOutcome = {
    enrolled: false,
    eligibilitySent: false,
    delivered: 0,
    rejected: [],
    pending: 0,
    deferred: null,
  };
  const nowMs = inp.now().getTime();
  let pending = pendingReports(
    store.reports(),
    store.finalResults(),
    nowMs,
    inp.windowMs,
    inp.sendUntil,
  );
  outcome.pending = pending.length;
  if (state.retryAt && Date.parse(state.retryAt) > nowMs) {
    outcome.deferred = `the service asked us to wait until ${state.retryAt}`;
    return outcome;
  }
  state.lastAttemptAt = inp.now().toISOString();
  try {
    outcome.enrolled = await ensureEnrolled(inp, state);
    outcome.eligibilitySent = await sendEligibilityIfDue(inp, state);
    while (pending.length > 0) {
      const size = Math.max(1, Math.min(state.batchSize || MAX_BATCH, MAX_BATCH));
      const batch = pending.slice(0, size);
      const res = await inp.client.send('POST', '/v1/reports', { reports: batch });
      if (res.status === 200) {
        const answer = res.json as { results?: ReportResult[]; receipts?: ReceiptHead } | null;
        const results = answer?.results ?? [];
        // Only an answer whose receipts verify against the pinned key counts as delivered.
        const accepted = acceptResults(
          results,
          answer?.receipts,
          batch,
          state,
          inp.service,
          inp.now(),
        );
        if (accepted.problem) throw new ReceiptError(accepted.problem);
        // hour-not-ended is never final: kept pending, sent again (docs/decisions.md, "Time is evidence").
        const notEnded = accepted.records
          .filter((r) => r.status === 'rejected' && r.reason === HOUR_NOT_ENDED)
          .map((r) => r.reportId);
        const records = accepted.records.filter((r) => !notEnded.includes(r.reportId));
        store.appendResults(records);
        outcome.delivered += records.filter((r) => r.status !== 'rejected').length;
        outcome.rejected.push(...records.filter((r) => r.status === 'rejected'));
        if (notEnded.length)
          inp.log(
            `the service's clock has not passed ${notEnded.length} hour(s) yet: kept pending, sent again later`,
          );
        const answered = new Set([...records.map((r) => r.reportId), ...notEnded]);
        pending = pending.filter((p) => !answered.has(p.reportId));
        if (answered.size === 0)
          throw new Error('the service answered without results for the batch');
        state.batchSize = Math.min(MAX_BATCH, (state.batchSize || MAX_BATCH) * 2);
        state.lastDeliveryAt = inp.now().toISOString();
        continue;
      }
      const detail = (res.json as { detail?: string } | null)?.detail ?? `status ${res.status}`;
      if (
        res.status === 401 &&
        (res.json as { type?: string } | null)?.type?.endsWith(':unknown-key')
      ) {
        state.enrolled = null; // the service lost or never had our enrolment: enrol again next run
        throw new DeferredError(
          `the service does not know this rig (${detail}); enrolling again next run`,
        );
      }
      if ((res.status === 400 || res.status === 413) && batch.length > 1) {
        // One bad report must not block the rest: split until it is alone.
        state.batchSize = Math.ceil(batch.length / 2);
        inp.log(
          `the service refused a batch of ${batch.length} (${detail}); retrying in batches of ${state.batchSize}`,
        );
        continue;
      }
      if (res.status === 400 || res.status === 413 || res.status === 422) {
        const r = batch[0]!;
        const rec: ResultRecord = {
          reportId: r.reportId,
          hour: r.hour,
          status: 'rejected',
          reason: `invalid: ${detail}`,
          at: inp.now().toISOString(),
        };
        store.appendResults([rec]);
        outcome.rejected.push(rec);
        pending = pending.slice(1);
        continue;
      }
      throw new Error(`the service refused the reports: ${detail}`);
    }
    state.lastError = null;
    state.retryAt = null;
  } catch (e) {
    if (e instanceof ClockSkewError) {
      state.clockOffsetMs = e.offsetMs;
      outcome.deferred =
        `the service refused our clock: ${e.message}; ` +
        `this rig's clock is off by about ${Math.round(e.offsetMs / 1000)} s — ` +
        'fix NTP (timedatectl set-ntp true)';
    } else if (e instanceof DeferredError) {
      outcome.deferred = e.message;
      state.retryAt = e.retryAt ? new Date(e.retryAt).toISOString() : null;
    } else outcome.deferred = (e as Error).message;
    state.lastError = outcome.deferred;
  }
  if (inp.client.offsetAt !== null) {
    state.clockOffsetMs = inp.client.offsetMs;
    state.clockOffsetAt = new Date(inp.client.offsetAt).toISOString();
  }
  outcome.pending = pending.length;
  store.saveState(state);
  return outcome;
}
