/** One 5-minute sample, built purely from a probe: connected or not (and why), and the GPUs seen. */
import type { TickProbe } from '../probe/index.js';
import type { ReportGpu } from '../protocol/types.js';
import { gpuModel, gpuQualifiesAny } from '../program/gpu.js';
import type { Program } from '../program/definitions.js';

export interface Sample {
  /** When the sample was taken (ISO 8601). */
  t: string;
  connected: boolean;
  reason: string | null;
  gpus: ReportGpu[];
  /** Qualifying GPUs seen in this sample. */
  qualifying: number;
  worker: string | null;
  sonmVersion: string | null;
}

/**
 * One sample from a tick's probe (README, "Uptime", The rule; docs/decisions.md, "Uptime"): its
 * time (`probedAt`), connected as the worker probe said (a failed worker probe: not connected,
 * its error the reason), the GPUs nvidia-smi listed with a uuid, each with its model and whether
 * it qualifies under any of `programs` (src/program/gpu.ts), and their count. Connected with the
 * GPUs unreadable counts with 0 GPUs, the reason saying why. Pure; throws nothing.
 */
export function buildSample(probe: TickProbe, programs: Program[]): Sample {
  const gpus: ReportGpu[] = probe.nvidia.ok
    ? probe.nvidia.value.gpus
        .filter((g) => g.uuid)
        .map((g) => ({
          uuid: g.uuid!,
          pciDeviceId: g.pciDeviceId,
          model: gpuModel(programs, g.pciDeviceId),
          qualifying: gpuQualifiesAny(programs, g),
        }))
    : [];
  const w = probe.worker.ok ? probe.worker.value : null;
  const connected = w?.connected ?? false;
  let reason: string | null = connected
    ? null
    : ((w
        ? w.notConnectedReason
        : `worker probe failed: ${(probe.worker as { error: string }).error}`) ?? 'not connected');
  // Connected, but the GPUs cannot be seen: the sample counts, with 0 qualifying GPUs.
  // A slow nvidia-smi stopped at the tick's deadline is "timed out", never a lost GPU.
  if (connected && !probe.nvidia.ok) {
    const timedOut = probe.nvidia.code === 'nvidia-smi-timeout';
    reason = timedOut
      ? `nvidia-smi timed out (${probe.nvidia.error})`
      : `GPUs not readable: ${probe.nvidia.error}`;
  }
  return {
    t: probe.probedAt,
    connected,
    reason,
    gpus,
    qualifying: gpus.filter((g) => g.qualifying).length,
    worker: w?.status?.ethAddr ?? null,
    sonmVersion:
      w?.status?.version ?? (probe.sonmVersions?.ok ? probe.sonmVersions.value.lowest : null),
  };
}
