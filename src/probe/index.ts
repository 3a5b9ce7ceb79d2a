/** The whole-rig probe: every source concurrently, each under its own deadline. */
import { machine } from 'node:os';
import type { RigProbe } from './types.js';
import { measure, type ProbeContext } from './context.js';
import { probeCpu } from './cpu.js';
import { probeMemory } from './memory.js';
import { probeDisk } from './disk.js';
import { probeNetwork } from './network.js';
import { probeNvidia } from './nvidia.js';
import { probeMarket, probeSonmVersions, probeWorker } from './sonm.js';

export interface ProbeOptions {
  /** Also list ask plans and deals (check and upgrade; not the 5-minute tick). */
  market: boolean;
  now: () => Date;
}

export async function probeRig(ctx: ProbeContext, options: ProbeOptions): Promise<RigProbe> {
  const archMachine = ctx.sysroot ? null : machine();
  const [arch, cpu, memory, disk, network, nvidia, sonmVersions, worker, market] = await Promise.all([
    measure(() => ({ machine: archMachine ?? (process.arch === 'x64' ? 'x86_64' : process.arch) })),
    measure(() => probeCpu(ctx)),
    measure(() => probeMemory(ctx)),
    measure(() => probeDisk(ctx)),
    measure(() => probeNetwork(ctx)),
    measure(() => probeNvidia(ctx)),
    measure(() => probeSonmVersions(ctx)),
    measure(() => probeWorker(ctx)),
    options.market ? measure(() => probeMarket(ctx)) : Promise.resolve(null),
  ]);
  return { probedAt: options.now().toISOString(), arch, cpu, memory, disk, network, nvidia, sonmVersions, worker, market };
}
