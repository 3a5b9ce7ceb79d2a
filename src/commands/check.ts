/** `sonm-rewards check`: probe the rig, evaluate it against the programs, explain the verdict. */
import type { CommandContext } from './context.js';
import type { CHECK, OptionValues } from './table.js';
import { log, verbose } from './context.js';
import { EXIT } from '../lib/errors.js';
import { makePaint, startSpinner } from '../lib/paint.js';
import type { ProbeContext } from '../probe/context.js';
import { probeContextFor } from './probe-context.js';
import { probeRig } from '../probe/index.js';
import type { RigProbe } from '../probe/types.js';
import { evaluate } from '../program/evaluate.js';
import { loadPrograms } from '../program/source.js';
import { buildCheckResult, type CheckResult } from '../program/result.js';
import { renderCheck } from '../program/render.js';

/** The options of `check`, as src/commands/table.ts declares them. */
export type CheckOptions = OptionValues<typeof CHECK.options>;

/**
 * Probe and evaluate; shared by check, report (eligibility) and upgrade. `opts.programsFile`: a
 * --programs path; `market`: also list ask plans and deals; `probeCtx`: defaults to
 * probeContextFor(ctx). Returns the CheckResult (docs/check-result.schema.json) and the probe;
 * a programs warning is logged on stderr. Rejects with UsageError (exit 2) for a bad --programs
 * file; a broken built-in programs/default.json rejects with its fs error or ProgramsFormatError.
 */
export async function runCheck(
  ctx: CommandContext,
  opts: { programsFile?: string; market: boolean; probeCtx?: ProbeContext },
): Promise<{ result: CheckResult; probe: RigProbe }> {
  const probeCtx = opts.probeCtx ?? probeContextFor(ctx);
  const now = ctx.now();
  const [probe, loaded] = await Promise.all([
    probeRig(probeCtx, { market: opts.market, now: () => now }),
    loadPrograms({
      file: opts.programsFile,
      service: ctx.settings.service,
      stateDir: ctx.settings.stateDir,
      timeoutMs: ctx.settings.deliveryTimeoutMs,
      now,
    }),
  ]);
  if (loaded.warning) log(ctx, `warning: ${loaded.warning}`);
  const ev = evaluate(probe, loaded.programs, now);
  return { result: buildCheckResult(probe, ev, loaded.source), probe };
}

/**
 * `sonm-rewards check [--programs FILE] [--report]`: probes the rig, evaluates it against the
 * programs and prints the verdict (`--json`: the CheckResult of docs/check-result.schema.json;
 * else renderCheck's table); `--report` also sends it to the service, a failure to send being a
 * warning on stderr. `opts`: `programs` (a file path) and `report`, as src/commands/table.ts
 * declares them. README, "`sonm-rewards check`"; docs/decisions.md, "`check`".
 * Returns the exit code (README, "Exit codes"): 0 eligible for an active program, 1 not.
 * Throws UsageError (exit 2) when the --programs file is missing or invalid; with --report, the
 * state directory's fs errors (sendEligibility); a broken built-in programs/default.json throws
 * its fs error or ProgramsFormatError.
 */
export async function checkCommand(ctx: CommandContext, opts: CheckOptions): Promise<number> {
  const spin = !ctx.json && ctx.stderr.isTTY && ctx.color;
  const spinner = await startSpinner(spin, 'Probing the rig…');
  // A slow tool (nvidia-smi without persistence mode) is waited for, and the user is told why.
  const onWait = (notice: string): void => (spin ? spinner.update(notice) : log(ctx, `${notice}…`));
  const probeCtx = { ...probeContextFor(ctx), onWait };
  let result: CheckResult;
  try {
    ({ result } = await runCheck(ctx, { programsFile: opts.programs, market: true, probeCtx }));
  } finally {
    spinner.stop();
  }
  verbose(ctx, `probe timings (ms): ${JSON.stringify(result.probeMs)}`);
  if (opts.report) {
    const { sendEligibility } = await import('./eligibility.js');
    const sent = await sendEligibility(ctx, result);
    log(
      ctx,
      sent.ok
        ? `eligibility sent to ${ctx.settings.service}`
        : `warning: eligibility not sent: ${sent.error}`,
    );
  }
  if (ctx.json) ctx.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else ctx.stdout.write(renderCheck(result, await makePaint(ctx.color)));
  return result.eligible ? EXIT.OK : EXIT.NOT_ELIGIBLE;
}
