/** `sonm-rewards enroll [--master 0x…]`: register this rig's key with the rewards service. */
import type { CommandContext } from './context.js';
import type { ENROLL, OptionValues } from './table.js';
import { EXIT, FailureError, RefusalError, UsageError } from '../lib/errors.js';
import { checkAddress } from '../lib/eth.js';
import { readConfiguredMaster } from '../lib/sonm-config.js';
import { enrolAndSend } from './eligibility.js';
import { runCheck } from './check.js';
import { UptimeStore } from '../uptime/store.js';

/**
 * `sonm-rewards enroll [--master 0x…] [--accept-service-key ID]`: checks the rig (no market
 * calls), enrols its key with the service for the master (`--master`, else worker-default.yaml)
 * and sends the verdict; prints the rig id and master (`--json`: one object). README, "Uptime"
 * (`enroll`); docs/protocol.md. Returns EXIT.OK (0).
 * Throws UsageError (exit 2) when no service is configured, `--master` is not an address
 * (lib/eth.ts), or no master is known; RefusalError (exit 1) when the service refuses the
 * enrolment (409, a receipt or service-key problem) or an `--accept-service-key` enrolment fails;
 * FailureError (exit 3) for any other failure to enrol (unreachable, lock busy); the state
 * directory's fs errors as they are.
 */
export async function enrollCommand(
  ctx: CommandContext,
  opts: OptionValues<typeof ENROLL.options>,
): Promise<number> {
  if (!ctx.settings.service)
    throw new UsageError(
      'no rewards service configured: pass --service URL or set SONM_REWARDS_SERVICE',
    );
  let master: string | undefined;
  if (opts.master) {
    const a = checkAddress(opts.master);
    if (!a.ok) throw new UsageError(`--master: ${a.reason}`);
    master = a.address;
  } else if (
    !readConfiguredMaster(ctx.settings.sonmConfigDir).master &&
    !(opts.acceptServiceKey && new UptimeStore(ctx.settings.stateDir).state().enrolled)
  ) {
    throw new UsageError(
      `no master address: pass --master 0x… (none found in ${ctx.settings.sonmConfigDir}/worker-default.yaml)`,
    );
  }
  const { result } = await runCheck(ctx, { market: false });
  const accept = opts.acceptServiceKey;
  const r = await enrolAndSend(ctx, result, {
    master,
    forceEnrol: Boolean(master) || Boolean(accept),
    acceptServiceKey: accept,
  });
  if (!r.ok) {
    if (r.conflict || accept) throw new RefusalError(r.error!);
    throw new FailureError(`cannot enrol: ${r.error}`);
  }
  if (ctx.json)
    ctx.stdout.write(
      `${JSON.stringify({
        rigId: r.rigId,
        master: r.master,
        service: ctx.settings.service,
        eligible: result.eligible,
      })}\n`,
    );
  else
    ctx.stdout.write(
      `Rig ${r.rigId} is enrolled with ${ctx.settings.service} for master ${r.master}; ` +
        `eligibility sent (${result.eligible ? 'eligible' : 'not eligible'}).\n`,
    );
  return EXIT.OK;
}
