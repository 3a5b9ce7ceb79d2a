/** The whole-rig probe: every source concurrently, each under its own deadline. */
import { machine } from 'node:os';
import type { NvidiaInfo, Probed, RigProbe } from './types.js';
import { measure, type ProbeContext } from './context.js';
import { probeCpu } from './cpu.js';
import { probeMemory } from './memory.js';
import { probeDisk } from './disk.js';
import { probeNetwork } from './network.js';
import { crossCheckPci, probeNvidia } from './nvidia.js';
import { scanPciDisplayDevices } from './pci.js';
import { probeMarket, probeSonmVersions, probeWorker } from './sonm.js';

export interface ProbeOptions {
  /** Also list ask plans and deals (check and upgrade; not the 5-minute tick). */
  market: boolean;
  now: () => Date;
  /** Results already measured this run (a tick's GPUs and worker), used instead of probing again. */
  reuse?: Partial<Pick<RigProbe, 'nvidia' | 'worker'>>;
}

/** What a 5-minute sample needs, and no more: the GPUs and the worker. */
export type TickProbe = Pick<RigProbe, 'probedAt' | 'nvidia' | 'worker'> &
  Partial<Pick<RigProbe, 'sonmVersions'>>;

/**
 * The tick's probe: nvidia-smi under the tick's bounded deadline (the lower of nvidiaTickMs and
 * nvidiaMs: a slow nvidia-smi times out as "nvidia-smi-timeout", never as a lost GPU), without
 * the PCI scan (a sample counts listed cards only; probeRig adds it when it reuses this answer), and the
 * worker. Never throws.
 */
export async function probeTick(ctx: ProbeContext, now: Date): Promise<TickProbe> {
  const nvidiaMs = Math.min(ctx.deadlines.nvidiaTickMs, ctx.deadlines.nvidiaMs);
  const [nvidia, worker] = await Promise.all([
    measure(() => probeNvidia(ctx, nvidiaMs, false)),
    measure(() => probeWorker(ctx, { lazyService: true })),
  ]);
  return { probedAt: now.toISOString(), nvidia, worker };
}

/** A tick's nvidia-smi answer, completed with the PCI cross-check that the tick skipped. */
function withPciScan(ctx: ProbeContext, p: Probed<NvidiaInfo>): Probed<NvidiaInfo> {
  if (!p.ok || p.value.pciDisplayDevices !== undefined) return p;
  return { ...p, value: crossCheckPci(p.value, scanPciDisplayDevices(ctx)) };
}

/**
 * The whole rig, each probe concurrently under its own deadline (README, "`sonm-rewards check`"):
 * arch, CPU, RAM, disk, network, GPUs (nvidia-smi with the PCI cross-check), SONM versions, the
 * worker, and with `options.market` the ask plans and deals (else `market` null).
 * `options.reuse` gives a tick's GPUs and worker instead of probing them again; `probedAt` is
 * `options.now()` as ISO 8601. Each part is a Probed: a value and its ms, or the error and its
 * code. A probe's failure never rejects: measure() turns it into a failed Probed.
 */
export async function probeRig(ctx: ProbeContext, options: ProbeOptions): Promise<RigProbe> {
  const archMachine = ctx.sysroot ? null : machine();
  // Started longest chain first: spawning a process blocks the event loop for a few ms, so the
  // two sonmcli calls in sequence (ask plans, then each deal) go before the one-shot probes.
  const market = options.market ? measure(() => probeMarket(ctx)) : Promise.resolve(null);
  const worker = options.reuse?.worker ?? measure(() => probeWorker(ctx));
  const nvidia = options.reuse?.nvidia
    ? withPciScan(ctx, options.reuse.nvidia)
    : measure(() => probeNvidia(ctx));
  const sonmVersions = measure(() => probeSonmVersions(ctx));
  const [arch, cpu, memory, disk, network] = await Promise.all([
    measure(() => ({ machine: archMachine ?? (process.arch === 'x64' ? 'x86_64' : process.arch) })),
    measure(() => probeCpu(ctx)),
    measure(() => probeMemory(ctx)),
    measure(() => probeDisk(ctx)),
    measure(() => probeNetwork(ctx)),
  ]);
  return {
    probedAt: options.now().toISOString(),
    arch,
    cpu,
    memory,
    disk,
    network,
    nvidia: await nvidia,
    sonmVersions: await sonmVersions,
    worker: await worker,
    market: await market,
  };
}
