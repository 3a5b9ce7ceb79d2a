/** The probe context a command runs with: its settings, the rig user, real tools on PATH. */
import type { CommandContext } from './context.js';
import { defaultProbeContext, type ProbeContext } from '../probe/context.js';
import { resolveRigUser } from '../lib/rig-user.js';

/**
 * The ProbeContext a command's probes run with: sysroot, deadlines and SONM config directory from
 * `ctx.settings`, `ctx.isRoot`, the rig user from resolveRigUser (README, "Configuration",
 * `rigUser`), real tools through execTool. Throws nothing (resolveRigUser swallows fs errors).
 */
export function probeContextFor(ctx: CommandContext): ProbeContext {
  const s = ctx.settings;
  return defaultProbeContext({
    sysroot: s.sysroot,
    isRoot: ctx.isRoot,
    rigUser: resolveRigUser({ env: ctx.env, configured: s.rigUser, sysroot: s.sysroot }),
    sonmConfigDir: s.sonmConfigDir,
    deadlines: s.deadlines,
  });
}
