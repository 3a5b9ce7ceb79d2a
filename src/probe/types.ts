/**
 * What the probe measured. Every source is wrapped in Probed<T>: a value, or the reason it could
 * not be measured. The evaluator turns a failed probe into a warn or fail with a next step.
 */
export type Probed<T> =
  | { ok: true; value: T; ms: number }
  | { ok: false; error: string; ms: number; code?: string };

export interface ArchInfo { machine: string }

export type CpuSpeedSource = 'cpufreq-max' | 'model-name' | 'lscpu-max' | 'cpuinfo-current' | 'systeminformation';
export interface CpuInfo {
  model: string | null;
  physicalCores: number | null;
  logicalCpus: number | null;
  maxMHz: number | null;
  speedSource: CpuSpeedSource | null;
}

export interface MemoryInfo {
  /** Sum of installed modules (exact) or MemTotal (estimate). */
  bytes: number;
  source: 'modules' | 'memtotal';
  modules: number[] | null;
}

export interface DiskInfo {
  /** The directory whose disk was measured (Docker data root or /). */
  path: string;
  device: string;
  /** Raw size of the whole physical disk, in bytes. */
  bytes: number;
  model: string | null;
}

export type LinkKind = 'wired' | 'wireless' | 'virtual' | 'unknown';
export interface NetworkInfo {
  iface: string | null;
  kind: LinkKind;
  /** Link speed in Mbit/s, null when the kernel does not report it. */
  speedMbps: number | null;
}

export interface GpuInfo {
  index: number;
  name: string;
  uuid: string | null;
  busId: string | null;
  /** Device part of the PCI id, 4 lowercase hex digits ("1b06"), null when unreadable. */
  pciDeviceId: string | null;
  pciVendorId: string | null;
  memoryMiB: number | null;
  driverVersion: string | null;
}

export interface LostGpu { busId: string; reason: string }

export interface NvidiaInfo {
  gpus: GpuInfo[];
  lost: LostGpu[];
  /** nvidia-smi exited non-zero but still listed some GPUs (a lost card among others). */
  warning: string | null;
}

export interface SonmVersions {
  /** Package name -> version string, e.g. {"sonm-worker": "0.4.25"}. */
  packages: Record<string, string>;
  source: 'dpkg-query' | 'sonmcli' | 'none';
  /** The lowest installed version among the components, normalised ("0.4.25"). */
  lowest: string | null;
}

export interface WorkerStatus {
  uptime: number | null;
  version: string | null;
  ethAddr: string | null;
  master: string | null;
  admin: string | null;
  isMasterConfirmed: boolean;
  isBenchmarkFinished: boolean;
  rendezvousStatus: string | null;
  taskCount: number;
  country: string | null;
}

export interface WorkerInfo {
  /** systemctl is-active sonm-worker: "active", "inactive", "failed", ... or null if unknown. */
  service: string | null;
  status: WorkerStatus | null;
  /** Why the status call failed, when it did. */
  statusError: string | null;
  connected: boolean;
  /** Why the worker does not count as connected. */
  notConnectedReason: string | null;
}

export interface AskPlanInfo {
  id: string;
  dealId: string | null;
  orderId: string | null;
  durationSeconds: number;
  price: string | null;
}

export interface DealInfo {
  id: string;
  durationSeconds: number;
  status: number | null;
  endTime: string | null;
  spot: boolean;
}

export interface MarketInfo {
  askPlans: AskPlanInfo[];
  deals: DealInfo[];
}

export interface RigProbe {
  probedAt: string;
  arch: Probed<ArchInfo>;
  cpu: Probed<CpuInfo>;
  memory: Probed<MemoryInfo>;
  disk: Probed<DiskInfo>;
  network: Probed<NetworkInfo>;
  nvidia: Probed<NvidiaInfo>;
  sonmVersions: Probed<SonmVersions>;
  worker: Probed<WorkerInfo>;
  /** Ask plans and deals: shown as information; absent when not probed. */
  market: Probed<MarketInfo> | null;
}
