/**
 * When a tick re-checks the whole rig and re-sends its eligibility verdict: a pure rule over what
 * the tick saw and what was sent last (docs/decisions.md, "The verdict is re-sent when the set of
 * qualifying GPUs changes"). The set matters, not only its size: the service credits only GPUs that
 * the latest verdict listed (uuid and PCI id), so an honest card swap must reach it at once.
 */
import type { ReportGpu } from '../protocol/types.js';

const DAY_MS = 86_400_000;

/** Why a verdict is due, as a code; null when none is. */
export type VerdictDue =
  'not-enrolled' | 'other-service' | 'never-sent' | 'daily' | 'gpu-count' | 'gpu-set' | 'programs';

/** The last verdict sent, as AgentState keeps it. */
export interface SentVerdict {
  sentAt: string;
  qualifyingSeen?: number;
  /** gpuSetKey of the qualifying GPUs when it was sent (absent in older state files). */
  gpusSeen?: string | null;
  programsKey?: string | null;
}

/** What one tick knows when it asks. `nowMs` is ms since the epoch (the tick's time to act on). */
export interface VerdictFacts {
  service: string | null;
  enrolledWith: string | null;
  sent: SentVerdict | null;
  nowMs: number;
  qualifying: number;
  gpusKey: string;
  programsKey: string;
}

/** The qualifying GPUs as one comparable text: sorted "uuid@pciDeviceId" pairs. */
export function gpuSetKey(
  gpus: readonly Pick<ReportGpu, 'uuid' | 'pciDeviceId' | 'qualifying'>[],
): string {
  return gpus
    .filter((g) => g.qualifying)
    .map((g) => `${g.uuid}@${g.pciDeviceId ?? '?'}`)
    .sort()
    .join(',');
}

/** Whether this tick must re-check the rig and (if its verdict changed) send it, and why. */
export function verdictDue(f: VerdictFacts): VerdictDue | null {
  if (!f.service) return null;
  if (!f.enrolledWith) return 'not-enrolled';
  if (f.enrolledWith !== f.service) return 'other-service';
  if (!f.sent) return 'never-sent';
  if (f.nowMs - Date.parse(f.sent.sentAt) >= DAY_MS) return 'daily';
  if (f.sent.qualifyingSeen !== f.qualifying) return 'gpu-count';
  if ((f.sent.gpusSeen ?? null) !== f.gpusKey) return 'gpu-set';
  if (f.sent.programsKey !== f.programsKey) return 'programs';
  return null;
}
