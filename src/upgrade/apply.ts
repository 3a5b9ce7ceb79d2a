/**
 * Applying the plan, step by step, each recorded in the journal and the log. A failure before
 * the script runs starts sonm-optimus again, leaving the rig as it was found. After the script,
 * whatever its exit code, the result is verified (SONM's script is unreliable both ways).
 */
import { appendFileSync } from 'node:fs';
import type { ExecResult, ExecOptions } from '../lib/exec.js';
import { describeExec } from '../lib/exec.js';
import { parsePurgeResult } from '../probe/sonm.js';
import type { PlannedStep, StepId, Verification } from './plan.js';
import { writeJournal, type UpgradeJournal } from './journal.js';

export interface ApplyDeps {
  exec: (command: string, args: readonly string[], options: ExecOptions) => Promise<ExecResult>;
  stateDir: string;
  journal: UpgradeJournal;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  scriptCwd: string;
  rigUser: string;
  isRoot: boolean;
  scriptTimeoutMs: number;
  waitMs: number;
  /** Probe versions, services and worker, then judge them. */
  check: () => Promise<Verification>;
  /** Progress for a person: called when a step starts and ends. */
  onStep: (id: StepId, phase: 'start' | 'end', line: string) => void | Promise<void>;
}

export interface StepOutcome { id: StepId; title: string; result: string; ms: number; ok: boolean }

export interface ApplyOutcome {
  ok: boolean;
  steps: StepOutcome[];
  scriptExit: number | null;
  verification: Verification | null;
  /** What went wrong and what to do, when not ok. */
  failure: string | null;
  warnings: string[];
}

function logExec(path: string, r: ExecResult, shownArgs: readonly string[]): void {
  appendFileSync(path, `\n$ ${[r.command, ...shownArgs].join(' ')}\n# ${describeExec({ ...r, args: shownArgs })} after ${r.durationMs} ms\n${r.stdout}${r.stderr ? `\n[stderr]\n${r.stderr}` : ''}\n`);
}

export async function applyPlan(steps: PlannedStep[], d: ApplyDeps): Promise<ApplyOutcome> {
  const j = d.journal;
  const out: ApplyOutcome = { ok: false, steps: [], scriptExit: null, verification: null, failure: null, warnings: [] };
  const save = (): void => writeJournal(d.stateDir, j);
  const shown = (s: PlannedStep): string[] => (s.id === 'run-script' ? s.args.map((a) => (a.length > 200 ? `<script ${j.scriptSha256.slice(0, 12)}…, ${a.length} bytes>` : a)) : s.args);
  const restartOptimus = async (): Promise<void> => {
    const cmd = d.isRoot ? { c: 'service', a: ['sonm-optimus', 'start'] } : { c: 'sudo', a: ['-n', 'service', 'sonm-optimus', 'start'] };
    const r = await d.exec(cmd.c, cmd.a, { timeoutMs: 60_000 });
    logExec(j.logPath, r, cmd.a);
    out.warnings.push(r.exitCode === 0 ? 'sonm-optimus was started again; the rig is as it was' : `could not start sonm-optimus again: ${describeExec(r)}; start it: sudo service sonm-optimus start`);
  };

  for (const step of steps) {
    const done = j.steps[step.id];
    if (done?.ok && step.id !== 'verify') {
      out.steps.push({ id: step.id, title: step.title, result: `done earlier (${done.finishedAt})`, ms: 0, ok: true });
      continue;
    }
    const started = Date.now();
    j.steps[step.id] = { startedAt: d.now().toISOString() };
    save();
    await d.onStep(step.id, 'start', step.title);
    const finish = async (ok: boolean, result: string, extra: Partial<{ exitCode: number | null }> = {}): Promise<StepOutcome> => {
      j.steps[step.id] = { ...j.steps[step.id]!, finishedAt: d.now().toISOString(), ok, detail: result, ...extra };
      save();
      const o = { id: step.id, title: step.title, result, ms: Date.now() - started, ok };
      out.steps.push(o);
      await d.onStep(step.id, 'end', `${ok ? '✔' : '✖'} ${step.title}: ${result}`);
      return o;
    };

    if (step.id === 'stop-optimus') {
      const r = await d.exec(step.command, step.args, { timeoutMs: 120_000 });
      logExec(j.logPath, r, step.args);
      if (r.exitCode !== 0) {
        await finish(false, describeExec(r));
        out.failure = `could not stop sonm-optimus (${(r.stderr || r.stdout).trim().split('\n')[0] || describeExec(r)}); nothing was changed`;
        return out;
      }
      await finish(true, 'stopped');
    } else if (step.id === 'purge') {
      const r = await d.exec(step.command, step.args, { timeoutMs: 180_000 });
      logExec(j.logPath, r, step.args);
      // purge exits 0 even when some plans failed: only its output tells.
      const parsed = r.timedOut || r.notFound ? { error: describeExec(r) } : parsePurgeResult(r.stdout);
      if ('error' in parsed || parsed.failed.length > 0) {
        const why = 'error' in parsed ? parsed.error : parsed.failed.map((f) => `plan ${f.id}: ${f.err}`).join('; ');
        await finish(false, why);
        await restartOptimus();
        out.failure = `the purge did not remove every ask plan (${why}); the upgrade stopped before SONM's script ran`;
        return out;
      }
      await finish(true, `${parsed.ok.length} plan${parsed.ok.length === 1 ? '' : 's'} removed`);
    } else if (step.id === 'run-script') {
      const env: Record<string, string> = { HOME: d.isRoot ? '/root' : process.env.HOME ?? '/root', SUDO_USER: d.rigUser, DEBIAN_FRONTEND: 'noninteractive' };
      const r = await d.exec(step.command, step.args, { timeoutMs: d.scriptTimeoutMs, cwd: d.scriptCwd, env });
      logExec(j.logPath, r, shown(step));
      out.scriptExit = r.exitCode;
      if (r.timedOut || r.notFound || r.spawnError) {
        await finish(false, describeExec({ ...r, args: shown(step) }), { exitCode: r.exitCode });
        out.failure = `SONM's script did not finish (${describeExec({ ...r, args: shown(step) })}); see ${j.logPath}, then run the upgrade again to carry on`;
        return out;
      }
      // Record, but do not judge: verification decides.
      await finish(true, `exited ${r.exitCode}`, { exitCode: r.exitCode });
    } else {
      const deadline = Date.now() + d.waitMs;
      let v = await d.check();
      while ((!v.ok || v.pending.length > 0) && Date.now() < deadline) {
        await d.sleep(Math.min(10_000, Math.max(0, deadline - Date.now())));
        v = await d.check();
      }
      out.verification = v;
      if (!v.ok) {
        await finish(false, v.problems.join('; '));
        out.failure = `the upgrade did not verify: ${v.problems.join('; ')}. See ${j.logPath}; fix what it names, then run the upgrade again`;
        return out;
      }
      await finish(true, v.pending.length ? `verified; still pending: ${v.pending.length}` : 'verified');
      if (out.scriptExit !== null && out.scriptExit !== 0) out.warnings.push(`SONM's script exited ${out.scriptExit}, but the result verified (its last step, a Docker image pull, can fail after a complete upgrade)`);
    }
  }
  out.ok = true;
  return out;
}
