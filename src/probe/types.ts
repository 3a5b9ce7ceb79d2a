/**
 * What the probe measured. Every source is wrapped in Probed<T>: a value, or the reason it could
 * not be measured. The evaluator turns a failed probe into a warn or fail with a next step.
 */
export type Probed<T> =
  { ok: true; value: T; ms: number } | { ok: false; error: string; ms: number; code?: ProbeCode };

/**
 * Why a probe could not measure its source. The evaluator picks the check's reason code, and so
 * its remedy, from this code, never from the English message.
 */
export type ProbeCode =
  | 'unreadable'
  | 'nvidia-smi-not-found'
  | 'driver-not-loaded'
  | 'driver-mismatch'
  | 'nvidia-smi-timeout'
  | 'gpu-lost'
  | 'nvidia-smi-too-old'
  | 'nvidia-smi-failed'
  | 'sonmcli';

export interface ArchInfo {
  machine: string;
}

export type CpuSpeedSource =
  'cpufreq-max' | 'model-name' | 'lscpu-max' | 'cpuinfo-current' | 'systeminformation';
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
  /** Link speed in Mbit/s, null when the kernel does not report it (or reports an "unknown" value). */
  speedMbps: number | null;
  /**
   * A bond, team or VLAN: the wired ports it was judged by (kind and speed come from them);
   * empty for a plain interface.
   */
  lowerDevices?: string[];
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

/**
 * Why a card counts as lost: `gpu-lost` (nvidia-smi's "GPU is lost" or a lost-GPU line),
 * `reset-required`, `gpu-error` (any other error placeholder, "Unknown Error"), `not-listed`
 * (on the PCI bus, absent from nvidia-smi's list).
 */
export type LostGpuCode = 'gpu-lost' | 'reset-required' | 'gpu-error' | 'not-listed';

export interface LostGpu {
  /** PCI bus id as its source printed it ("0000:03:00.0"); null when a broken row has none. */
  busId: string | null;
  /** nvidia-smi's words, e.g. "Unknown Error", "GPU is lost". */
  reason: string;
  code: LostGpuCode;
  /** Who told us: a line or a row of nvidia-smi, or the PCI bus scan. */
  source: 'nvidia-smi' | 'pci';
}

/** Something nvidia-smi warned about a working card; `inforom-corrupted` is the one known today. */
export interface GpuNotice {
  busId: string;
  code: 'inforom-corrupted';
  text: string;
}

/** Fields marked optional below were added with reason codes; probes always set them. */
export interface NvidiaInfo {
  gpus: GpuInfo[];
  lost: LostGpu[];
  /** Warnings about working cards (exit 14: a corrupted infoROM). */
  notices?: GpuNotice[];
  /** nvidia-smi exited non-zero but still listed some GPUs (a lost card among others). */
  warning: string | null;
  /** How long nvidia-smi took to answer, in milliseconds. */
  answerMs?: number;
  /** NVIDIA display devices on the PCI bus; null when the bus could not be read. */
  pciDisplayDevices?: number | null;
}

export interface SonmVersions {
  /** Installed packages only: name -> version string, e.g. {"sonm-worker": "0.4.25"}. */
  packages: Record<string, string>;
  /**
   * Packages dpkg knows but that are not installed, with dpkg's state: "config-files" (removed,
   * configuration left: `rc`), "half-installed", "unpacked", "half-configured", "not-installed".
   */
  notInstalled?: Record<string, string>;
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
  /** The same, as a code: the remedy is chosen by it. Null when connected. */
  notConnectedCode?: WorkerReasonCode | null;
}

/**
 * Why a worker is not connected: the first failing part of the "connected" rule (README, "Uptime",
 * The rule; see also rewards-program.md).
 */
export type WorkerReasonCode =
  | 'not-installed'
  | 'service-inactive'
  | 'node-unreachable'
  | 'status-failed'
  | 'benchmarks-running'
  | 'master-unconfirmed'
  | 'no-rendezvous';

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
