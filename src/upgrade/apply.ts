/**
 * Applying the plan, step by step, each recorded in the journal and the log. A failure before
 * the script runs starts sonm-optimus again, leaving the rig as it was found. After the script,
 * whatever its exit code, the result is verified (SONM's script is unreliable both ways).
 * One injected clock gives every timestamp, duration, deadline and sleep (docs/decisions.md
 * "Upgrade"), so tests drive the verification wait without waiting.
 */
import { appendFileSync } from 'node:fs';
import type { ExecResult, ExecOptions } from '../lib/exec.js';
import { describeExec } from '../lib/exec.js';
import { parsePurgeResult } from '../probe/sonm-parse.js';
import type { PlannedCommand, PlannedStep, StepId } from './steps.js';
import type { Verification } from './verify.js';
import { writeJournal, type UpgradeJournal } from './journal.js';

export type Exec = (
  command: string,
  args: readonly string[],
  options: ExecOptions,
) => Promise<ExecResult>;

/** The clock: wall time for records, and the sleeps and deadlines of the verification wait. */
export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export interface ApplyDeps {
  exec: Exec;
  clock: Clock;
  stateDir: string;
  journal: UpgradeJournal;
  /** Starts sonm-optimus again when a step before the script fails. */
  rollback: PlannedCommand;
  scriptCwd: string;
  /** How long verification may wait for pending items to settle, ms. */
  waitMs: number;
  /** Probe versions, services and worker, then judge them. */
  check: () => Promise<Verification>;
  /** Progress for a person: called when a step starts and ends. */
  onStep: (id: StepId, phase: 'start' | 'end', line: string) => void | Promise<void>;
}

export interface StepOutcome {
  id: StepId;
  title: string;
  result: string;
  ms: number;
  ok: boolean;
}

export interface ApplyOutcome {
  ok: boolean;
  steps: StepOutcome[];
  scriptExit: number | null;
  verification: Verification | null;
  /** What went wrong and what to do, when not ok. */
  failure: string | null;
  warnings: string[];
}

/** What one step did: ok or not, a short result, and when it failed, the line for the user. */
interface StepResult {
  ok: boolean;
  result: string;
  failure?: string;
  exitCode?: number | null;
  rollback?: boolean;
}

const VERIFY_POLL_MS = 10_000;

function logExec(path: string, r: ExecResult): void {
  const err = r.stderr ? `\n[stderr]\n${r.stderr}` : '';
  const head = `$ ${[r.command, ...r.args].join(' ')}\n# ${describeExec(r)} after ${r.durationMs} ms`;
  appendFileSync(path, `\n${head}\n${r.stdout}${err}\n`);
}

async function run(
  c: PlannedCommand,
  d: Pick<ApplyDeps, 'exec' | 'journal'>,
  cwd?: string,
): Promise<ExecResult> {
  const r = await d.exec(c.command, c.args, { timeoutMs: c.timeoutMs, env: c.env, cwd });
  logExec(d.journal.logPath, r);
  return r;
}

async function stopOptimus(
  step: PlannedStep,
  d: Pick<ApplyDeps, 'exec' | 'journal'>,
): Promise<StepResult> {
  const r = await run(step, d);
  if (r.exitCode === 0) return { ok: true, result: 'stopped' };
  const why = (r.stderr || r.stdout).trim().split('\n')[0] || describeExec(r);
  return {
    ok: false,
    result: describeExec(r),
    failure: `could not stop sonm-optimus (${why}); nothing was changed`,
  };
}

/**
 * purge exits 0 even when some plans failed: only its output tells (docs/decisions.md, "Upgrade",
 * Neither tool's exit code is trusted; see also sonm-platform.md).
 */
async function purge(
  step: PlannedStep,
  d: Pick<ApplyDeps, 'exec' | 'journal'>,
): Promise<StepResult> {
  const r = await run(step, d);
  const parsed = r.timedOut || r.notFound ? { error: describeExec(r) } : parsePurgeResult(r.stdout);
  if ('error' in parsed || parsed.failed.length > 0) {
    const why =
      'error' in parsed
        ? parsed.error
        : parsed.failed.map((f) => `plan ${f.id}: ${f.err}`).join('; ');
    const failure = `the purge did not remove every ask plan (${why}); the upgrade stopped before SONM's script ran`;
    return { ok: false, result: why, failure, rollback: true };
  }
  return {
    ok: true,
    result: `${parsed.ok.length} plan${parsed.ok.length === 1 ? '' : 's'} removed`,
  };
}

/** Records, but does not judge, the script's exit code: verification decides. */
async function runScript(
  step: PlannedStep,
  d: Pick<ApplyDeps, 'exec' | 'journal' | 'scriptCwd'>,
): Promise<StepResult> {
  const r = await run(step, d, d.scriptCwd);
  if (!r.timedOut && !r.notFound && !r.spawnError) {
    return { ok: true, result: `exited ${r.exitCode}`, exitCode: r.exitCode };
  }
  const failure =
    `SONM's script did not finish (${describeExec(r)}); see ${d.journal.logPath}, ` +
    'then run the upgrade again to carry on';
  return { ok: false, result: describeExec(r), failure, exitCode: r.exitCode };
}

/**
 * Checks until nothing is pending or `waitMs` has passed on `clock`, polling every 10 s.
 * Returns the last verification.
 */
export async function verifyUntilSettled(
  d: Pick<ApplyDeps, 'check' | 'clock' | 'waitMs'>,
): Promise<Verification> {
  const deadline = d.clock.now().getTime() + d.waitMs;
  let v = await d.check();
  for (
    let left = deadline - d.clock.now().getTime();
    (!v.ok || v.pending.length > 0) && left > 0;
    left = deadline - d.clock.now().getTime()
  ) {
    await d.clock.sleep(Math.min(VERIFY_POLL_MS, left));
    v = await d.check();
  }
  return v;
}

async function verifyStep(d: ApplyDeps, out: ApplyOutcome): Promise<StepResult> {
  const v = await verifyUntilSettled(d);
  out.verification = v;
  if (!v.ok) {
    const failure =
      `the upgrade did not verify: ${v.problems.join('; ')}. See ${d.journal.logPath}; ` +
      'fix what it names, then run the upgrade again';
    return { ok: false, result: v.problems.join('; '), failure };
  }
  if (out.scriptExit !== null && out.scriptExit !== 0) {
    out.warnings.push(
      `SONM's script exited ${out.scriptExit}, but the result verified ` +
        '(its last step, a Docker image pull, can fail after a complete upgrade)',
    );
  }
  return {
    ok: true,
    result: v.pending.length ? `verified; still pending: ${v.pending.length}` : 'verified',
  };
}

async function rollback(d: ApplyDeps, out: ApplyOutcome): Promise<void> {
  const r = await run(d.rollback, d);
  out.warnings.push(
    r.exitCode === 0
      ? 'sonm-optimus was started again; the rig is as it was'
      : `could not start sonm-optimus again: ${describeExec(r)}; start it: sudo service sonm-optimus start`,
  );
}

function doStep(step: PlannedStep, d: ApplyDeps, out: ApplyOutcome): Promise<StepResult> {
  if (step.id === 'stop-optimus') return stopOptimus(step, d);
  if (step.id === 'purge') return purge(step, d);
  if (step.id === 'run-script') return runScript(step, d);
  return verifyStep(d, out);
}

/**
 * Runs `steps` in order, skipping those the journal records as done (verification always runs).
 * Each step's start and end are written to the journal before and after it. Returns what
 * happened; never throws for a failed step (a journal that cannot be written does throw).
 */
export async function applyPlan(steps: PlannedStep[], d: ApplyDeps): Promise<ApplyOutcome> {
  const j = d.journal;
  const out: ApplyOutcome = {
    ok: false,
    steps: [],
    scriptExit: null,
    verification: null,
    failure: null,
    warnings: [],
  };
  for (const step of steps) {
    const done = j.steps[step.id];
    if (done?.ok && step.id !== 'verify') {
      out.steps.push({
        id: step.id,
        title: step.title,
        result: `done earlier (${done.finishedAt})`,
        ms: 0,
        ok: true,
      });
      continue;
    }
    const started = d.clock.now();
    j.steps[step.id] = { startedAt: started.toISOString() };
    writeJournal(d.stateDir, j);
    await d.onStep(step.id, 'start', step.title);
    const r = await doStep(step, d, out);
    if (step.id === 'run-script') out.scriptExit = r.exitCode ?? null;
    const finished = d.clock.now();
    const extra = r.exitCode !== undefined ? { exitCode: r.exitCode } : {};
    const record = { finishedAt: finished.toISOString(), ok: r.ok, detail: r.result, ...extra };
    j.steps[step.id] = { ...j.steps[step.id]!, ...record };
    writeJournal(d.stateDir, j);
    const ms = finished.getTime() - started.getTime();
    out.steps.push({ id: step.id, title: step.title, result: r.result, ms, ok: r.ok });
    await d.onStep(step.id, 'end', `${r.ok ? '✔' : '✖'} ${step.title}: ${r.result}`);
    if (r.ok) continue;
    if (r.rollback) await rollback(d, out);
    out.failure = r.failure ?? `${step.title} failed`;
    return out;
  }
  out.ok = true;
  return out;
}
