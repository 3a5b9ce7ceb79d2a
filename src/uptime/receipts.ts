/**
 * The agent's side of receipts (docs/protocol.md, "Receipts"): the service key is pinned at
 * enrolment and kept (one pin per rig, whatever URL the service is reached at); every per-report
 * answer must carry a receipt that verifies against it, or it is not counted as delivered. A
 * different key is a rotation event the supplier confirms with
 * `sonm-rewards enroll --accept-service-key <keyId>`, never something accepted silently.
 */
import type { HourlyReport, ReportResult } from '../protocol/types.js';
import { reportFingerprint } from '../protocol/ids.js';
import {
  checkReceipt,
  receiptsFromHead,
  serviceKeyId,
  type ReceiptHead,
  type ServiceKey,
} from '../protocol/receipt.js';
import type { AgentState, ResultRecord } from './store.js';

/** A pinned key: the service's published key, for which service URL, since when. */
export type PinnedKey = ServiceKey & { service: string; pinnedAt: string; previous?: ServiceKey[] };

/** The service offered another key than the pinned one: shown by `status`, logged by `report`. */
export interface KeyChangeEvent {
  pinned: string;
  offered: string;
  service: string;
  seenAt: string;
}

/** Delivery must stop: the answer cannot be counted (the message says why and what to do). */
export class ReceiptError extends Error {}

const confirmHint = (keyId: string): string =>
  `if the operator announced this key, confirm it with \`sonm-rewards enroll --accept-service-key ${keyId}\``;

/** The sentence for a key change, for logs and `status`. */
export function keyChangeText(e: KeyChangeEvent): string {
  return (
    `the service ${e.service} now signs with key ${e.offered}, not the pinned key ${e.pinned} (seen ${e.seenAt}): ` +
    `its answers are not counted as delivered; ${confirmHint(e.offered)}`
  );
}

function parseKey(v: unknown): ServiceKey | null {
  const k = v as Partial<ServiceKey> | null | undefined;
  if (!k || typeof k.publicKey !== 'string' || typeof k.keyId !== 'string') return null;
  try {
    return serviceKeyId(k.publicKey) === k.keyId
      ? { keyId: k.keyId, publicKey: k.publicKey, alg: 'ed25519' }
      : null;
  } catch {
    return null;
  }
}

/**
 * Pin the key an enrolment answer carries (`answer.serviceKey`), or check it against the pin.
 * `accept`: a key id the supplier confirmed, which may replace the pin. Mutates `state`; throws
 * ReceiptError when the answer has no usable key, or another key than the pinned one.
 */
export function pinServiceKey(
  state: AgentState,
  answer: unknown,
  service: string,
  now: Date,
  accept: string | null = null,
): void {
  const offered = parseKey((answer as { serviceKey?: unknown } | null)?.serviceKey);
  if (!offered)
    throw new ReceiptError(
      `the service ${service} gave no usable signing key on enrolment: ` +
        'its receipts cannot be checked, so nothing it answers counts as delivered',
    );
  const pin = state.serviceKey;
  if (accept !== null && accept !== offered.keyId)
    throw new ReceiptError(
      `the service ${service} signs with key ${offered.keyId}, not ${accept}: nothing was changed`,
    );
  if (pin && pin.keyId !== offered.keyId && accept !== offered.keyId) {
    state.serviceKeyEvent = {
      pinned: pin.keyId,
      offered: offered.keyId,
      service,
      seenAt: now.toISOString(),
    };
    throw new ReceiptError(keyChangeText(state.serviceKeyEvent));
  }
  // A confirmed rotation keeps the old key: receipts it signed still prove their hours.
  const previous =
    pin && pin.keyId !== offered.keyId
      ? [...(pin.previous ?? []), { keyId: pin.keyId, publicKey: pin.publicKey, alg: pin.alg }]
      : pin?.previous;
  if (!pin || pin.keyId !== offered.keyId)
    state.serviceKey = {
      ...offered,
      service,
      pinnedAt: now.toISOString(),
      ...(previous ? { previous } : {}),
    };
  state.serviceKeyEvent = null;
}

/**
 * Turn one answered batch into result records, each with its own receipt, derived from the
 * answer's signed tree head (`head`) and verified against the pinned key. The answer counts as a
 * whole or not at all: when it does not verify, no record is returned and `problem` says why; a
 * head signed by another key records a key-change event in `state`.
 */
export function acceptResults(
  results: ReportResult[],
  head: ReceiptHead | undefined,
  batch: HourlyReport[],
  state: AgentState,
  service: string,
  now: Date,
): { records: ResultRecord[]; problem: string | null } {
  const refuse = (why: string) => {
    const event = state.serviceKeyEvent ? `; ${keyChangeText(state.serviceKeyEvent)}` : '';
    return {
      records: [],
      problem: `${results.length} answer(s) not counted as delivered: ${why}${event}`,
    };
  };
  const pin = state.serviceKey;
  if (!pin) return refuse('no service key is pinned (enrol again)');
  if (!head || typeof head !== 'object' || typeof head.signature !== 'string')
    return refuse('the answer carries no signed receipts');
  if (head.keyId !== pin.keyId) {
    state.serviceKeyEvent = {
      pinned: pin.keyId,
      offered: String(head.keyId),
      service,
      seenAt: now.toISOString(),
    };
    return refuse(
      `the answer is signed by key ${String(head.keyId)}, not the pinned service key ${pin.keyId}`,
    );
  }
  const reports = results.map((r) => batch.find((b) => b.reportId === r.reportId));
  if (results.length === 0 || reports.some((r) => !r))
    return refuse('the answer names reports that were not sent');
  const hashes = reports.map((r) => reportFingerprint(r!).hash);
  const receipts = receiptsFromHead(results, hashes, head);
  if (!receipts)
    return refuse(
      'its results (or the report content it covers) do not match its signed tree head',
    );
  const problem = checkReceipt(results[0]!, receipts[0], pin, hashes[0]!);
  if (problem) return refuse(problem.detail);
  const at = now.toISOString();
  const records = results.map((r, i) => ({
    reportId: r.reportId,
    hour: reports[i]!.hour,
    status: r.status,
    ...(r.reason ? { reason: r.reason } : {}),
    credited: r.credited,
    at,
    receipt: receipts[i]!,
  }));
  return { records, problem: null };
}
