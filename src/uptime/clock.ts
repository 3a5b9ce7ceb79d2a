/**
 * Time is evidence, not an oracle (docs/decisions.md, "Time is evidence"). Pure rules over what a
 * tick knows about time: this rig's clock now, its reading at the previous tick, and the service's
 * clock offset measured from the last answer's Date header. They decide:
 *   - whether the clock jumped since the last tick (logged, kept, shown by `status`);
 *   - the time to act on: the service's clock when its offset is current, else this rig's;
 *   - up to when hours may be built and sent: only hours that both clocks (as far as known) have
 *     passed, so the service never answers `hour-not-ended`;
 *   - whether destructive steps (expiry, compaction, the size cap) may run: on the service's clock,
 *     or on ours once it has run an hour without a jump;
 *   - which samples were taken under a clock that proved wrong: kept, and marked, never counted.
 */
import type { AgentState } from './store.js';

/** How far two readings may disagree before one of them is treated as wrong: 10 minutes. */
export const CLOCK_BOUND_MS = 10 * 60_000;
/** A gap between ticks longer than this is logged as a jump forward (or a rig that was off). */
export const MAX_TICK_GAP_MS = 3_600_000;
/** A measured offset stays current for this long on our clock, if the clock does not jump. */
export const OFFSET_CURRENT_MS = 2 * 3_600_000;
/** Without the service's word, our clock is trusted again after running this long without a jump. */
export const SETTLE_MS = 3_600_000;
/** Hours are sent this long after both clocks passed their end: the Date header has 1 s steps. */
export const SEND_MARGIN_MS = 2_000;

/** A jump of this rig's clock between two ticks, as recorded in state.json. */
export interface ClockJump {
  /** Our clock when the jump was seen (ISO 8601). */
  at: string;
  /** Our clock at the tick before (ISO 8601). */
  from: string;
  /** How far the clock moved beyond the expected interval, in ms (negative: back). */
  deltaMs: number;
}

/** What a tick concludes about time. All times are ms since the epoch. */
export interface TimeView {
  /** This rig's clock. */
  ours: number;
  /** The service's clock as far as known (our clock plus a current offset), else null. */
  service: number | null;
  /** The time to act on: the service's when known, else ours. */
  best: number;
  /** A jump seen at this tick, or null. */
  jump: ClockJump | null;
  /** Hours ending at or before this may be built and sent; null: none this tick. */
  buildUntil: number | null;
  /** Whether expiry, compaction and the size cap may run; if not, `why` says why. */
  trusted: boolean;
  why: string | null;
}

/** The clock fields of AgentState that these rules read. */
export type ClockState = Pick<
  AgentState,
  'clockOffsetMs' | 'clockOffsetAt' | 'lastTickAt' | 'clockJumps'
>;

/**
 * The jump between the previous tick (`lastTickAt`, ISO) and `nowMs`, or null: back by more than
 * CLOCK_BOUND_MS, or forward by more than MAX_TICK_GAP_MS (a clock step, or a rig that was off).
 */
export function detectJump(
  nowMs: number,
  lastTickAt: string | null,
  intervalMs: number,
): ClockJump | null {
  if (!lastTickAt) return null;
  const gap = nowMs - Date.parse(lastTickAt);
  if (gap >= -CLOCK_BOUND_MS && gap <= MAX_TICK_GAP_MS) return null;
  return { at: new Date(nowMs).toISOString(), from: lastTickAt, deltaMs: gap - intervalMs };
}

/**
 * The offset (service minus ours, ms) if it is still current at `nowMs`: measured less than
 * OFFSET_CURRENT_MS ago on our clock, not in our future, and no jump since. Else null.
 */
export function currentOffset(
  nowMs: number,
  st: ClockState,
  jump: ClockJump | null,
): number | null {
  if (jump || st.clockOffsetMs === null || !st.clockOffsetAt) return null;
  const age = nowMs - Date.parse(st.clockOffsetAt);
  return age >= -CLOCK_BOUND_MS && age <= OFFSET_CURRENT_MS ? st.clockOffsetMs : null;
}

/**
 * The tick's view of time from our clock `nowMs`, the stored clock state, the jump seen at this
 * tick (detectJump) and the offset known now (currentOffset, possibly just measured).
 */
export function viewTime(
  nowMs: number,
  st: ClockState,
  jump: ClockJump | null,
  offsetMs: number | null,
): TimeView {
  const service = offsetMs === null ? null : nowMs + offsetMs;
  const best = service ?? nowMs;
  const base = { ours: nowMs, service, best, jump };
  if (service !== null)
    return {
      ...base,
      buildUntil: Math.min(nowMs, service) - SEND_MARGIN_MS,
      trusted: true,
      why: null,
    };
  const recent = [...st.clockJumps, ...(jump ? [jump] : [])].find((j) => {
    const since = nowMs - Date.parse(j.at);
    return since < SETTLE_MS && since >= -CLOCK_BOUND_MS;
  });
  if (recent) {
    const why =
      `the clock jumped ${describeDelta(recent.deltaMs)} at ${recent.at.slice(0, 16)} ` +
      'and no service has confirmed the time since';
    return { ...base, buildUntil: null, trusted: false, why };
  }
  return { ...base, buildUntil: nowMs, trusted: true, why: null };
}

/**
 * Whether the service's clock, as last measured, holds back an hour that our clock has passed:
 * then the tick measures it again before waiting on it (an old measurement must not delay an hour).
 */
export function heldByOffset(view: TimeView): boolean {
  if (view.service === null || view.buildUntil === null) return false;
  return Math.floor(view.ours / 3_600_000) * 3_600_000 > view.buildUntil;
}

/** A sample kept but marked (clock.log): it was taken under a clock that proved wrong. */
export interface SampleMark {
  /** The sample's own time (its `t`, ISO 8601), which identifies it. */
  t: string;
  reason: string;
  /** When it was marked (ISO 8601). */
  at: string;
  /** The service's offset at the sample's tick, when known: the sample then counts at t + offset. */
  offsetMs: number | null;
}

/**
 * The samples as hours are built from them: a marked sample with a known offset counts at its
 * corrected time; a marked one without, or one ahead of the service's clock by more than the
 * bound (newly marked, returned in `marks`), does not count at all.
 */
export function samplesOnTime<S extends { t: string }>(
  samples: S[],
  marks: Map<string, SampleMark>,
  view: TimeView,
): { samples: S[]; marks: SampleMark[] } {
  const out: S[] = [];
  const fresh: SampleMark[] = [];
  for (const s of samples) {
    const m = marks.get(s.t);
    if (m) {
      if (m.offsetMs !== null)
        out.push({ ...s, t: new Date(Date.parse(s.t) + m.offsetMs).toISOString() });
    } else if (view.service !== null && Date.parse(s.t) > view.service + CLOCK_BOUND_MS) {
      fresh.push({
        t: s.t,
        reason: "ahead of the service's clock",
        at: new Date(view.ours).toISOString(),
        offsetMs: null,
      });
    } else out.push(s);
  }
  return { samples: out, marks: fresh };
}

/**
 * The mark for this tick's own sample taken at `t` (ISO), when the service's clock says ours is
 * off by more than the bound; null otherwise. The offset is kept so the sample counts on time.
 */
export function markForSample(t: string, view: TimeView): SampleMark | null {
  if (view.service === null) return null;
  const off = view.service - view.ours;
  if (Math.abs(off) <= CLOCK_BOUND_MS) return null;
  const reason = `taken while this rig's clock was ${describeDelta(-off)} off the service's`;
  return { t, reason, at: new Date(view.ours).toISOString(), offsetMs: off };
}

/** "+40 d", "-5 min", "+35 s": a signed duration for logs and `status`. */
export function describeDelta(ms: number): string {
  const sign = ms < 0 ? '-' : '+';
  const a = Math.abs(ms);
  if (a >= 86_400_000) return `${sign}${Math.round(a / 86_400_000)} d`;
  if (a >= 3_600_000) return `${sign}${Math.round(a / 3_600_000)} h`;
  if (a >= 60_000) return `${sign}${Math.round(a / 60_000)} min`;
  return `${sign}${Math.round(a / 1000)} s`;
}

/** Keep the last 10 jumps: enough for `status`, bounded in state.json. */
export function rememberJump(jumps: ClockJump[], jump: ClockJump | null): ClockJump[] {
  return jump ? [...jumps, jump].slice(-10) : jumps;
}
