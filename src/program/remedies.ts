/**
 * The next step for every check outcome that has one, looked up by the check's id and its reason
 * code, never by matching English text. Every number, version and model name comes from the
 * program definition (programs/default.json), so a new program needs no new remedy text.
 * test/unit/rules.test.ts walks this table: one row per remedy.
 */
import type { ProgramRequirements } from './definitions.js';
import type { CheckId } from './outcome.js';

/** What a remedy may name besides the program: the interface, the disk's path, packages, cards. */
export interface RemedyFacts {
  r: ProgramRequirements;
  /** The interface, path, package list or bus ids the outcome is about; null when none. */
  subject: string | null;
}

type Remedy = (f: RemedyFacts) => string;

const ghz = (mhz: number): string => `${Number((mhz / 1000).toFixed(2))} GHz`;
const gb = (bytes: number): string => `${Math.round(bytes / 2 ** 30)} GB`;
const models = (r: ProgramRequirements): string => r.gpuModels.map((m) => m.model).join(' or ');
const RESEAT =
  'reseat the card and its riser, check its power cables, then reboot; a lost GPU earns nothing';

const BY_HAND: Partial<Record<CheckId, string>> = {
  arch: 'run `uname -m` and check the output by hand',
  'cpu-cores': 'check /proc/cpuinfo by hand',
  'cpu-speed': 'check /proc/cpuinfo by hand',
  ram: 'check `free -g` by hand',
  disk: 'check `lsblk -b` by hand',
  network: 'check `ip route` and `ethtool` by hand',
  'sonm-version': 'check `dpkg -l "sonm-*"` by hand',
  'sonm-worker': 'check `systemctl status sonm-worker`',
};

/** remedies[check id][reason code]: the remedy for that outcome. */
export const REMEDIES: Record<CheckId, Record<string, Remedy>> = {
  arch: {
    'arch-unsupported': () =>
      'the program needs an x86-64 (amd64) machine; ARM boards and 32-bit systems cannot join',
  },
  'cpu-cores': {
    'cores-unknown': () => 'check `lscpu` for "Core(s) per socket"',
    'too-few-cores': ({ r }) => `fit a CPU with at least ${r.minPhysicalCores} physical cores`,
  },
  'cpu-speed': {
    'cpu-speed-unknown': () => "check the CPU model's rated frequency by hand",
    'cpu-clocked-down': () => "check the CPU model's rated frequency; an idle CPU may clock down",
    'cpu-too-slow': ({ r }) => `fit a CPU rated at ${ghz(r.minCpuMHz)} or more`,
  },
  ram: {
    'ram-too-small': ({ r }) => `add memory modules to reach ${gb(r.minRamBytes)}`,
  },
  disk: {
    'disk-too-small': ({ r, subject }) =>
      `move ${subject ?? 'the Docker data root'} to a disk of ${Math.round(r.minDiskBytes / 1e9)} GB or more`,
  },
  network: {
    'no-default-route': () => 'connect the rig with an Ethernet cable and check `ip route`',
    'wireless-link': () => 'the program needs a stable wired connection: plug in an Ethernet cable',
    'virtual-link': () =>
      "route the rig's traffic through its physical Ethernet port (a bridge, tunnel or VPN is not one)",
    'link-speed-unknown': ({ r, subject }) =>
      `check the link with \`ethtool ${subject ?? '<interface>'}\`; it must be at least ${r.minLinkMbps} Mbit/s`,
    'link-too-slow': () => 'check the cable and switch port; the link negotiated too slow a speed',
    'link-kind-unknown': () => 'make sure the rig is connected by cable',
  },
  gpus: {
    'nvidia-smi-not-found': () => 'nvidia-smi not found: install the NVIDIA driver',
    'driver-not-loaded': () =>
      'the NVIDIA driver is not loaded: reinstall it or reboot, then run `nvidia-smi`',
    'driver-mismatch': () =>
      'the driver and its library versions differ (after a driver update): reboot',
    'nvidia-smi-timeout': () =>
      'run `nvidia-smi` by hand: if it never answers, a card may hang the driver (check risers and power, ' +
      'then reboot); if it is only slow, enable persistence mode: `sudo nvidia-smi -pm 1`, ' +
      'or the `nvidia-persistenced` service',
    'nvidia-smi-too-old': () => 'update the NVIDIA driver: this nvidia-smi cannot answer the query',
    'nvidia-smi-failed': () => 'run `nvidia-smi` and fix what it reports',
    'gpu-lost': ({ subject }) => `${subject ? `GPU ${subject}` : 'a GPU'} is lost: ${RESEAT}`,
    'too-many-gpus': ({ r }) => `remove GPUs until no more than ${r.maxGpus} remain`,
    'no-qualifying-gpu': ({ r }) =>
      `install at least ${r.minGpus} ${models(r)} ` +
      '(identified by PCI id: another model does not qualify, however close its name)',
    'inforom-corrupted': ({ subject }) =>
      `the card at ${subject ?? '?'} works, but its infoROM is corrupted: ` +
      'it still counts; if it starts failing, have it serviced',
    'nvidia-smi-slow': () =>
      'enable persistence mode so that nvidia-smi answers at once: `sudo nvidia-smi -pm 1`, ' +
      'or run the `nvidia-persistenced` service; the 5-minute samples wait only a bounded time',
  },
  'sonm-version': {
    'sonm-not-installed': ({ r }) =>
      `install SONM ${r.minSonmVersion}: https://docs.sonm.com (How to become a supplier)`,
    'sonm-version-unreadable': ({ r }) =>
      `install SONM ${r.minSonmVersion}: https://docs.sonm.com (How to become a supplier)`,
    'sonm-outdated': () => 'run `sudo sonm-rewards upgrade --master 0x…` (your master address)',
    'sonm-package-broken': ({ subject }) =>
      'finish the interrupted installation: `sudo dpkg --configure -a`, ' +
      `then \`sudo apt-get install --reinstall ${subject ?? 'sonm-worker'}\``,
  },
  'sonm-worker': {
    'service-inactive': () => 'start it: `sudo systemctl start sonm-worker`',
    'node-unreachable': () => 'start sonm-node: `sudo systemctl start sonm-node`',
    'status-failed': () => 'check `sudo journalctl -u sonm-worker`',
    'benchmarks-running': () =>
      'wait for the worker to finish its benchmarks (several minutes after a start)',
    'master-unconfirmed': () =>
      "confirm this worker from your master: `sonmcli master confirm <worker address>` on the master's machine",
    'no-rendezvous': () =>
      "check the internet connection; the worker cannot reach SONM's rendezvous servers",
  },
};

/**
 * The remedy for check `id` with reason `code`: the table's entry, the check's "by hand" step
 * for `unmeasured`, else null (a pass, a skip). Pure; throws nothing.
 */
export function remedyFor(id: CheckId, code: string, facts: RemedyFacts): string | null {
  const fn = REMEDIES[id][code];
  if (fn) return fn(facts);
  return code === 'unmeasured' ? (BY_HAND[id] ?? null) : null;
}
