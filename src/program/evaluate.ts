/**
 * The eligibility evaluator: a pure function of (probe, program, now). It judges the GPUs
 * (./gpu.ts), runs each rule of the table (./rules.ts) in CHECK_IDS order, adds each check's
 * requirement and its remedy by reason code (./remedies.ts), and prices the verdict.
 * No I/O, so every rule is tested as a table (test/unit/rules.test.ts, evaluate.test.ts).
 */
import type { RigProbe } from '../probe/types.js';
import { programWindow, type Program, type ProgramWindow } from './definitions.js';
import { evaluateGpus, type EvaluatedGpu } from './gpu.js';
import { CHECK_IDS, type CheckId, type CheckStatus, type Outcome } from './outcome.js';
import { remedyFor } from './remedies.js';
import { RULES, requiredText } from './rules.js';

export { CHECK_IDS, type CheckId, type CheckStatus, type EvaluatedGpu };

/** One line of `check`: the rule's outcome with its requirement and next step. */
export interface CheckItem {
  id: CheckId;
  status: CheckStatus;
  /** The reason code ("ok", "link-speed-unknown", "gpu-lost", …); the remedy is chosen by it. */
  code: string;
  /** What was measured, for a person ("15.5 GiB MemTotal (estimated)"), null when unmeasured. */
  actual: string | null;
  /** The measured value in base units (bytes, MHz, count, Mbit/s, version), for machines. */
  value: number | string | null;
  required: string;
  message: string;
  remedy: string | null;
}

export interface ProgramVerdict {
  program: Program;
  window: ProgramWindow;
  checks: CheckItem[];
  gpus: EvaluatedGpu[];
  qualifyingGpus: number;
  /** GPUs the reward is paid for: qualifying ones, capped at the program's maximum. */
  creditedGpus: number;
  usdPerDay: number;
  /** Meets every requirement (no check failed). */
  qualifies: boolean;
  /** Qualifies and the program is active now. */
  eligible: boolean;
}

function toCheck(id: CheckId, o: Outcome, program: Program): CheckItem {
  const r = program.requirements;
  return {
    id,
    status: o.status,
    code: o.code,
    actual: o.actual,
    value: o.value,
    required: requiredText(id, r),
    message: o.message,
    remedy: remedyFor(id, o.code, { r, subject: o.subject ?? null }),
  };
}

/**
 * The verdict of one program for a probed rig at `now`: every check, the cards, the reward.
 * Pure; throws nothing (a probe that failed is a check's warn or fail).
 */
export function evaluateProgram(probe: RigProbe, program: Program, now: Date): ProgramVerdict {
  const nv = probe.nvidia.ok ? probe.nvidia.value : null;
  const gpus = nv ? evaluateGpus(nv.gpus, program, nv.notices) : [];
  const checks = CHECK_IDS.map((id) => toCheck(id, RULES[id]({ probe, program, gpus }), program));
  const qualifyingGpus = gpus.filter((g) => g.qualifying).length;
  const creditedGpus = Math.min(qualifyingGpus, program.requirements.maxGpus);
  const window = programWindow(program, now);
  const qualifies = checks.every((c) => c.status !== 'fail');
  return {
    program,
    window,
    checks,
    gpus,
    qualifyingGpus,
    creditedGpus,
    usdPerDay: creditedGpus * program.reward.usdPerGpuDay,
    qualifies,
    eligible: qualifies && window.active,
  };
}

export interface CheckEvaluation {
  /** The verdict shown first: the first program the rig is eligible for, else the first active, else the first. */
  primary: ProgramVerdict;
  verdicts: ProgramVerdict[];
  eligible: boolean;
}

/** Every program's verdict and the one shown first (docs/decisions.md, "Exit code"). Pure. */
export function evaluate(probe: RigProbe, programs: Program[], now: Date): CheckEvaluation {
  const verdicts = programs.map((p) => evaluateProgram(probe, p, now));
  const primary =
    verdicts.find((v) => v.eligible) ?? verdicts.find((v) => v.window.active) ?? verdicts[0]!;
  return { primary, verdicts, eligible: verdicts.some((v) => v.eligible) };
}
