/**
 * The eligibility evaluator: a pure function of (probe, program, now). No I/O, so every rule is
 * tested as a table in test/unit/evaluate.test.ts.
 */
import type { GpuInfo, Probed, RigProbe } from '../probe/types.js';
import { compareVersions, formatVersion, parseVersion } from '../lib/version.js';
import { modelForPciId, programWindow, type Program, type ProgramWindow } from './definitions.js';

export const CHECK_IDS = ['arch', 'cpu-cores', 'cpu-speed', 'ram', 'disk', 'network', 'gpus', 'sonm-version', 'sonm-worker'] as const;
export type CheckId = (typeof CHECK_IDS)[number];
export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface CheckItem {
  id: CheckId;
  status: CheckStatus;
  /** What was measured, for a person ("15.5 GiB MemTotal (estimated)"), null when unmeasured. */
  actual: string | null;
  /** The measured value in base units (bytes, MHz, count, Mbit/s, version), for machines. */
  value: number | string | null;
  required: string;
  message: string;
  remedy: string | null;
}

export interface EvaluatedGpu {
  index: number;
  name: string;
  model: string | null;
  pciDeviceId: string | null;
  busId: string | null;
  uuid: string | null;
  memoryMiB: number | null;
  qualifying: boolean;
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

const GIB = 2 ** 30;
const gib = (b: number): string => `${(b / GIB).toFixed(1)} GiB`;
const gb = (b: number): string => `${(b / 1e9).toFixed(1)} GB`;

function item(id: CheckId, status: CheckStatus, actual: string | null, value: CheckItem['value'], required: string, message: string, remedy: string | null = null): CheckItem {
  return { id, status, actual, value, required, message, remedy };
}

function unmeasured<T>(id: CheckId, p: Probed<T>, required: string, remedy: string): CheckItem | null {
  if (p.ok) return null;
  return item(id, 'warn', null, null, required, `could not be measured: ${p.error}`, remedy);
}

export function evaluateGpus(gpus: GpuInfo[], program: Program): EvaluatedGpu[] {
  return gpus.map((g) => {
    const model = modelForPciId(program, g.pciDeviceId) ?? knownModel(g.pciDeviceId);
    return {
      index: g.index,
      name: g.name,
      model,
      pciDeviceId: g.pciDeviceId,
      busId: g.busId,
      uuid: g.uuid,
      memoryMiB: g.memoryMiB,
      qualifying: modelForPciId(program, g.pciDeviceId) !== null && (g.pciVendorId === null || g.pciVendorId === '10de'),
    };
  });
}

/** Names for common non-qualifying cards, so the table says what a card is (pci.ids). */
const OTHER_MODELS: Record<string, string> = {
  '1b80': 'GTX 1080', '1b81': 'GTX 1070', '1b82': 'GTX 1070 Ti', '1c03': 'GTX 1060 6GB', '1b07': 'P102-100',
  '1e82': 'RTX 2080', '1e87': 'RTX 2080', '1e09': 'CMP 50HX', '1b06': 'GTX 1080 Ti', '1e04': 'RTX 2080 Ti', '1e07': 'RTX 2080 Ti',
  '2204': 'RTX 3090', '2684': 'RTX 4090', '2330': 'H100 SXM5 80GB', '2335': 'H200', '20b0': 'A100 SXM4 40GB',
};
export function knownModel(pciDeviceId: string | null): string | null {
  return pciDeviceId ? OTHER_MODELS[pciDeviceId] ?? null : null;
}

export function evaluateProgram(probe: RigProbe, program: Program, now: Date): ProgramVerdict {
  const r = program.requirements;
  const checks: CheckItem[] = [];

  // arch
  {
    const req = r.architectures.map((a) => (a === 'x86_64' ? 'x86-64' : a)).join(' or ');
    const u = unmeasured('arch', probe.arch, req, 'run `uname -m` and check the output by hand');
    if (u) checks.push(u);
    else if (probe.arch.ok) {
      const m = probe.arch.value.machine;
      const norm = m === 'amd64' || m === 'x64' ? 'x86_64' : m;
      checks.push(r.architectures.includes(norm)
        ? item('arch', 'pass', m, m, req, `architecture ${m}`)
        : item('arch', 'fail', m, m, req, `architecture ${m} is not ${req}`, 'the program needs an x86-64 (amd64) machine; ARM boards and 32-bit systems cannot join'));
    }
  }

  // cpu-cores and cpu-speed
  {
    const reqCores = `at least ${r.minPhysicalCores} physical cores`;
    const reqSpeed = `at least ${(r.minCpuMHz / 1000).toFixed(1)} GHz`;
    if (!probe.cpu.ok) {
      checks.push(item('cpu-cores', 'warn', null, null, reqCores, `could not be measured: ${probe.cpu.error}`, 'check /proc/cpuinfo by hand'));
      checks.push(item('cpu-speed', 'warn', null, null, reqSpeed, `could not be measured: ${probe.cpu.error}`, 'check /proc/cpuinfo by hand'));
    } else {
      const c = probe.cpu.value;
      if (c.physicalCores === null) checks.push(item('cpu-cores', 'warn', null, null, reqCores, 'the number of physical cores is not reported', 'check `lscpu` for "Core(s) per socket"'));
      else if (c.physicalCores >= r.minPhysicalCores) checks.push(item('cpu-cores', 'pass', `${c.physicalCores} physical cores`, c.physicalCores, reqCores, `${c.physicalCores} physical cores`));
      else checks.push(item('cpu-cores', 'fail', `${c.physicalCores} physical core${c.physicalCores === 1 ? '' : 's'}`, c.physicalCores, reqCores, `${c.physicalCores} physical core${c.physicalCores === 1 ? '' : 's'}: ${r.minPhysicalCores} needed`, `fit a CPU with at least ${r.minPhysicalCores} physical cores (a Celeron G3900 or better)`));

      if (c.maxMHz === null || c.maxMHz <= 0) checks.push(item('cpu-speed', 'warn', null, null, reqSpeed, 'the CPU frequency is not reported (common in VMs)', 'check the CPU model\'s rated frequency by hand'));
      else {
        const ghz = `${(c.maxMHz / 1000).toFixed(2)} GHz`;
        const src = c.speedSource === 'cpuinfo-current' ? 'current clock; the rated maximum is not reported' : c.speedSource ?? 'unknown source';
        const actual = `${ghz} (${src})`;
        if (c.maxMHz >= r.minCpuMHz) checks.push(item('cpu-speed', 'pass', actual, c.maxMHz, reqSpeed, `CPU rated at ${ghz}`));
        else if (c.speedSource === 'cpuinfo-current') checks.push(item('cpu-speed', 'warn', actual, c.maxMHz, reqSpeed, `the CPU runs at ${ghz} now; its rated maximum is not reported`, 'check the CPU model\'s rated frequency; an idle CPU may clock down'));
        else checks.push(item('cpu-speed', 'fail', actual, c.maxMHz, reqSpeed, `CPU rated at ${ghz}: ${(r.minCpuMHz / 1000).toFixed(1)} GHz needed`, 'fit a CPU rated at 2 GHz or more'));
      }
    }
  }

  // ram
  {
    const req = `at least ${Math.round(r.minRamBytes / GIB)} GB`;
    const u = unmeasured('ram', probe.memory, req, 'check `free -g` by hand');
    if (u) checks.push(u);
    else if (probe.memory.ok) {
      const m = probe.memory.value;
      if (m.source === 'modules') {
        const actual = `${gib(m.bytes)} in ${m.modules?.length ?? '?'} module${m.modules?.length === 1 ? '' : 's'}`;
        checks.push(m.bytes >= r.minRamBytes
          ? item('ram', 'pass', actual, m.bytes, req, `RAM ${actual}`)
          : item('ram', 'fail', actual, m.bytes, req, `RAM ${gib(m.bytes)}: ${Math.round(r.minRamBytes / GIB)} GB needed`, `add memory modules to reach ${Math.round(r.minRamBytes / GIB)} GB`));
      } else {
        const actual = `${gib(m.bytes)} MemTotal (estimated; run as root to read the modules)`;
        checks.push(m.bytes >= r.minRamEstimateBytes
          ? item('ram', 'pass', actual, m.bytes, req, `RAM about ${Math.round(m.bytes / GIB + 0.49)} GB (MemTotal ${gib(m.bytes)}; firmware reserves a little)`)
          : item('ram', 'fail', actual, m.bytes, req, `RAM ${Math.round(m.bytes / GIB)} GB: ${Math.round(r.minRamBytes / GIB)} GB needed`, `add memory modules to reach ${Math.round(r.minRamBytes / GIB)} GB`));
      }
    }
  }

  // disk
  {
    const req = `at least ${Math.round(r.minDiskBytes / 1e9)} GB`;
    const u = unmeasured('disk', probe.disk, req, 'check `lsblk -b` by hand');
    if (u) checks.push(u);
    else if (probe.disk.ok) {
      const d = probe.disk.value;
      const actual = `${gb(d.bytes)} (${d.device}, holds ${d.path})`;
      checks.push(d.bytes >= r.minDiskBytes
        ? item('disk', 'pass', actual, d.bytes, req, `disk ${actual}`)
        : item('disk', 'fail', actual, d.bytes, req, `disk ${gb(d.bytes)}: ${Math.round(r.minDiskBytes / 1e9)} GB needed`, `move ${d.path} to a disk of ${Math.round(r.minDiskBytes / 1e9)} GB or more`));
    }
  }

  // network
  {
    const req = `wired, at least ${r.minLinkMbps} Mbit/s`;
    const u = unmeasured('network', probe.network, req, 'check `ip route` and `ethtool` by hand');
    if (u) checks.push(u);
    else if (probe.network.ok) {
      const n = probe.network.value;
      const speed = n.speedMbps === null ? 'speed unknown' : `${n.speedMbps} Mbit/s`;
      const actual = n.iface ? `${n.iface}, ${n.kind}, ${speed}` : 'no default route';
      if (!n.iface) checks.push(item('network', 'fail', actual, null, req, 'no default route: the rig is offline', 'connect the rig with an Ethernet cable and check `ip route`'));
      else if (n.kind === 'wireless') checks.push(item('network', 'fail', actual, n.speedMbps, req, `${n.iface} is a wireless link`, 'the program needs a stable wired connection: plug in an Ethernet cable'));
      else if (n.kind === 'virtual') checks.push(item('network', 'fail', actual, n.speedMbps, req, `the default route goes through ${n.iface}, a virtual interface`, 'route the rig\'s traffic through its physical Ethernet port'));
      else if (n.speedMbps === null) checks.push(item('network', 'warn', actual, null, req, `${n.iface} does not report its link speed`, 'check the link with `ethtool ' + n.iface + '`; it must be at least ' + r.minLinkMbps + ' Mbit/s'));
      else if (n.speedMbps < r.minLinkMbps) checks.push(item('network', 'fail', actual, n.speedMbps, req, `${n.iface} links at ${n.speedMbps} Mbit/s: ${r.minLinkMbps} needed`, 'check the cable and switch port; the link negotiated too slow a speed'));
      else checks.push(item('network', n.kind === 'unknown' ? 'warn' : 'pass', actual, n.speedMbps, req, n.kind === 'unknown' ? `${n.iface} could not be identified as wired` : `${n.iface} wired at ${speed}`, n.kind === 'unknown' ? 'make sure the rig is connected by cable' : null));
    }
  }

  // gpus
  let gpus: EvaluatedGpu[] = [];
  let qualifyingGpus = 0;
  {
    const names = r.gpuModels.map((m) => m.model).join(' or ');
    const req = `${r.minGpus} to ${r.maxGpus} ${names}`;
    if (!probe.nvidia.ok) {
      checks.push(item('gpus', 'fail', null, null, req, probe.nvidia.error, nvidiaRemedy(probe.nvidia.code)));
    } else {
      const nv = probe.nvidia.value;
      gpus = evaluateGpus(nv.gpus, program);
      qualifyingGpus = gpus.filter((g) => g.qualifying).length;
      const total = gpus.length + nv.lost.length;
      const byModel = new Map<string, number>();
      for (const g of gpus) byModel.set(g.model ?? g.name, (byModel.get(g.model ?? g.name) ?? 0) + 1);
      const summary = [...byModel].map(([m, n]) => `${m} ×${n}`).join(', ') || 'none';
      const actual = `${qualifyingGpus} qualifying of ${total} (${summary}${nv.lost.length ? `, ${nv.lost.length} lost` : ''})`;
      if (total > r.maxGpus) checks.push(item('gpus', 'fail', actual, qualifyingGpus, req, `${total} GPUs in the rig: at most ${r.maxGpus} are allowed`, `remove GPUs until no more than ${r.maxGpus} remain`));
      else if (qualifyingGpus < r.minGpus) checks.push(item('gpus', 'fail', actual, qualifyingGpus, req, total === 0 ? 'no NVIDIA GPU found' : `no qualifying GPU: ${summary}`, `install at least ${r.minGpus} ${names} (identified by PCI id; a GTX 1080 or a P102-100 does not qualify)`));
      else if (nv.lost.length > 0) checks.push(item('gpus', 'warn', actual, qualifyingGpus, req, `${nv.lost.map((l) => `GPU ${l.busId}: ${l.reason}`).join('; ')}`, 'reseat the card and its riser, check its power, then reboot; a lost GPU earns nothing'));
      else checks.push(item('gpus', 'pass', actual, qualifyingGpus, req, `${qualifyingGpus} qualifying GPU${qualifyingGpus === 1 ? '' : 's'}`));
    }
  }

  // sonm-version
  {
    const req = `SONM ${r.minSonmVersion} or newer`;
    const want = parseVersion(r.minSonmVersion)!;
    if (!probe.sonmVersions.ok) checks.push(item('sonm-version', 'fail', null, null, req, probe.sonmVersions.error, 'install SONM: https://docs.sonm.com (How to become a supplier)'));
    else {
      const v = probe.sonmVersions.value;
      const parts = Object.entries(v.packages).map(([p, ver]) => `${p} ${ver}`).join(', ');
      const lowest = parseVersion(v.lowest);
      if (!lowest) checks.push(item('sonm-version', 'fail', parts || 'not installed', null, req, parts ? `SONM version unreadable: ${parts}` : 'SONM is not installed', 'install SONM 0.4.25: https://docs.sonm.com (How to become a supplier)'));
      else if (compareVersions(lowest, want) < 0) checks.push(item('sonm-version', 'fail', `${formatVersion(lowest)} (${parts})`, formatVersion(lowest), req, `SONM ${formatVersion(lowest)} is installed`, 'run `sudo sonm-rewards upgrade --master 0x…` (your master address)'));
      else checks.push(item('sonm-version', 'pass', `${formatVersion(lowest)} (${parts})`, formatVersion(lowest), req, `SONM ${formatVersion(lowest)}`));
    }
  }

  // sonm-worker
  {
    const req = 'worker running and connected';
    if (!probe.worker.ok) checks.push(item('sonm-worker', 'warn', null, null, req, probe.worker.error, 'check `systemctl status sonm-worker`'));
    else {
      const w = probe.worker.value;
      if (w.connected) checks.push(item('sonm-worker', 'pass', `connected (${w.status?.ethAddr ?? 'worker'}, master confirmed)`, 'connected', req, 'worker connected'));
      else if (w.notConnectedReason === 'SONM is not installed') checks.push(item('sonm-worker', 'skip', 'not installed', null, req, 'no SONM worker on this machine', null));
      else checks.push(item('sonm-worker', 'warn', `not connected: ${w.notConnectedReason}`, 'not-connected', req, `worker not connected: ${w.notConnectedReason}`, workerRemedy(w.notConnectedReason)));
    }
  }

  const window = programWindow(program, now);
  const qualifies = checks.every((c) => c.status !== 'fail');
  const creditedGpus = Math.min(qualifyingGpus, r.maxGpus);
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

function nvidiaRemedy(code: string | undefined): string {
  switch (code) {
    case 'not-found': return 'nvidia-smi not found: install the NVIDIA driver';
    case 'driver': return 'the NVIDIA driver is not loaded: reinstall it or reboot, then run `nvidia-smi`';
    case 'mismatch': return 'the driver and its library versions differ (after a driver update): reboot';
    case 'timeout': return 'nvidia-smi hung, which usually means a GPU fell off the bus: check risers and power, then reboot';
    case 'gpu-lost': return 'a GPU is lost: reseat the card and its riser, check its power, then reboot';
    default: return 'run `nvidia-smi` and fix what it reports';
  }
}

function workerRemedy(reason: string | null): string {
  if (!reason) return 'check `systemctl status sonm-worker`';
  if (reason.includes('service')) return 'start it: `sudo systemctl start sonm-worker`';
  if (reason.includes('master')) return 'confirm this worker from your master: `sonmcli master confirm <worker address>` on the master\'s machine';
  if (reason.includes('benchmark')) return 'wait for the worker to finish its benchmarks (several minutes after a start)';
  if (reason.includes('rendezvous')) return 'check the internet connection; the worker cannot reach SONM\'s rendezvous servers';
  if (reason.includes('node')) return 'start sonm-node: `sudo systemctl start sonm-node`';
  return 'check `sudo journalctl -u sonm-worker`';
}

export interface CheckEvaluation {
  /** The verdict shown first: the first program the rig is eligible for, else the first active, else the first. */
  primary: ProgramVerdict;
  verdicts: ProgramVerdict[];
  eligible: boolean;
}

export function evaluate(probe: RigProbe, programs: Program[], now: Date): CheckEvaluation {
  const verdicts = programs.map((p) => evaluateProgram(probe, p, now));
  const primary = verdicts.find((v) => v.eligible) ?? verdicts.find((v) => v.window.active) ?? verdicts[0]!;
  return { primary, verdicts, eligible: verdicts.some((v) => v.eligible) };
}
