/**
 * The vocabulary of the eligibility rules (./rules.ts, ./rules-gpu-sonm.ts): check ids, what a
 * rule returns (an outcome with a reason code), and small builders so that rules read as
 * "fail with this code, this measurement".
 */
import type { Probed, RigProbe } from '../probe/types.js';
import type { Program } from './definitions.js';
import type { EvaluatedGpu } from './gpu.js';

export const CHECK_IDS = [
  'arch',
  'cpu-cores',
  'cpu-speed',
  'ram',
  'disk',
  'network',
  'gpus',
  'sonm-version',
  'sonm-worker',
] as const;
export type CheckId = (typeof CHECK_IDS)[number];
export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

/** What a rule decides: the status, why (a code), and what was measured. */
export interface Outcome {
  status: CheckStatus;
  /** The reason code: "ok" for a pass; the remedy is looked up by it. */
  code: string;
  /** What was measured, for a person; null when unmeasured. */
  actual: string | null;
  /** The measured value in base units (bytes, MHz, count, Mbit/s, version), for machines. */
  value: number | string | null;
  message: string;
  /** What the remedy names (an interface, a path, packages, bus ids); absent when nothing. */
  subject?: string | null;
}

/** What every rule receives: the probe, the program, and the GPUs already judged by ./gpu.ts. */
export interface RuleInput {
  probe: RigProbe;
  program: Program;
  gpus: EvaluatedGpu[];
}

export type Rule = (input: RuleInput) => Outcome;

type Measured = Omit<Outcome, 'status' | 'code'>;
/** Outcome builders: status and code first, the rest by name. Pure. */
export const pass = (m: Measured): Outcome => ({ status: 'pass', code: 'ok', ...m });
export const fail = (code: string, m: Measured): Outcome => ({ status: 'fail', code, ...m });
export const warn = (code: string, m: Measured): Outcome => ({ status: 'warn', code, ...m });
export const skip = (code: string, m: Measured): Outcome => ({ status: 'skip', code, ...m });

/** A probe that could not measure: a warn, code "unmeasured", with the probe's error. */
export function unmeasured(p: Probed<unknown>): Outcome | null {
  return p.ok
    ? null
    : warn('unmeasured', {
        actual: null,
        value: null,
        message: `could not be measured: ${p.error}`,
      });
}

/** "1 module", "2 modules". */
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
