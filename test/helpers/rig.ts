/**
 * A simulated rig for end-to-end tests: a sysroot with /proc and /sys files shaped like a real
 * machine's, fake SONM/NVIDIA tools first on PATH, and a runner for the built binary.
 */
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  symlinkSync,
  writeFileSync,
  readFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { collect } from './process.js';
import {
  agentEnv,
  rigTools,
  type FakeTools,
  type RigToolsSpec,
} from '../../scripts/lib/fake-tools.mjs';

export { HEALTHY_SONMCLI } from '../../scripts/lib/fake-tools.mjs';
export type { FakeCase, FakeCall } from '../../scripts/lib/fake-tools.mjs';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures');
export const fixture = (p: string): string => readFileSync(join(FIXTURES, p), 'utf8');

/** The machine's shape (sysroot files) and its tools' answers (RigToolsSpec). */
export interface RigSpec extends Omit<RigToolsSpec, 'delays'> {
  cores?: number;
  /** cpufreq max in MHz; null: no cpufreq (a VM). */
  maxMHz?: number | null;
  modelName?: string;
  memTotalKb?: number;
  diskBytes?: number;
  iface?: string;
  wireless?: boolean;
  linkMbps?: number | null;
  /** A folder of /proc and /sys files laid over the generated sysroot (symbolic links kept). */
  sysrootOverlay?: string;
}

/**
 * A fresh directory under the checkout's .tmp/. With `anyUser`, under the system's temp
 * directory instead, mode 0755: a test that runs the agent as another user (uid 65534) needs
 * every directory above the rig to be searchable by that user, and a checkout may sit inside a
 * private directory (mode 0700, as `mktemp -d` makes).
 */
export function tempDir(prefix = 'sr-', opts: { anyUser?: boolean } = {}): string {
  // SONM_REWARDS_TEST_TMP: this run's directory, removed after the suite (global-teardown.ts).
  const anyUserBase = process.env.SONM_REWARDS_TEST_TMP ?? tmpdir();
  const base = opts.anyUser ? anyUserBase : join(ROOT, '.tmp');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, opts.anyUser ? `sonm-rewards-${prefix}` : prefix));
  if (opts.anyUser) chmodSync(dir, 0o755);
  return dir;
}

let agentCopy: string | undefined;
/**
 * The built agent (bin/, dist/agent/, package.json, programs/) copied once per test process
 * into a directory every user can read, for runs as another user: the checkout itself may not
 * be reachable by that user (see tempDir). Returns the copy's root. The agent's lazily loaded
 * npm dependencies are not copied: the runs as another user stop before they would load them
 * (no root, or a state directory it cannot write), and a run that did would fail loudly.
 */
export function agentForAnyUser(): string {
  if (agentCopy) return agentCopy;
  const dir = tempDir('agent-', { anyUser: true });
  for (const p of ['bin', join('dist', 'agent'), 'package.json', 'programs']) {
    cpSync(join(ROOT, p), join(dir, p), { recursive: true });
  }
  agentCopy = dir;
  return dir;
}

function put(root: string, path: string, content: string): void {
  const p = join(root, path);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, content);
}

export function writeSysroot(root: string, spec: RigSpec): void {
  const cores = spec.cores ?? 4;
  const model = spec.modelName ?? 'Intel(R) Core(TM) i5-7400 CPU';
  const blocks = Array.from(
    { length: cores },
    (_, i) =>
      `processor\t: ${i}\nvendor_id\t: GenuineIntel\nmodel name\t: ${model}\ncpu MHz\t\t: 800.000\n` +
      `physical id\t: 0\ncore id\t\t: ${i}\ncpu cores\t: ${cores}\n`,
  );
  put(root, 'proc/cpuinfo', `${blocks.join('\n')}\n`);
  if (spec.maxMHz !== null)
    put(
      root,
      'sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq',
      `${(spec.maxMHz ?? 3500) * 1000}\n`,
    );
  put(
    root,
    'proc/meminfo',
    `MemTotal:       ${spec.memTotalKb ?? 16_300_000} kB\nMemFree:         1000000 kB\n`,
  );
  const iface = spec.iface ?? 'enp3s0';
  put(
    root,
    'proc/net/route',
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n' +
      `${iface}\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n` +
      `${iface}\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n`,
  );
  put(
    root,
    'proc/self/mountinfo',
    '22 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw\n23 22 0:21 / /sys rw - sysfs sysfs rw\n',
  );
  const disk = 'sys/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda';
  put(root, `${disk}/size`, `${Math.round((spec.diskBytes ?? 120_034_123_776) / 512)}\n`);
  put(root, `${disk}/device/model`, 'KINGSTON SA400S3\n');
  put(root, `${disk}/sda2/partition`, '2\n');
  put(root, `${disk}/sda2/size`, '1000\n');
  mkdirSync(join(root, 'sys/dev/block'), { recursive: true });
  symlinkSync(
    `../../devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda2`,
    join(root, 'sys/dev/block/8:2'),
  );
  const net = `sys/class/net/${iface}`;
  put(root, `${net}/type`, '1\n');
  put(root, `${net}/speed`, spec.linkMbps === null ? '-1\n' : `${spec.linkMbps ?? 1000}\n`);
  mkdirSync(join(root, net, 'device'), { recursive: true });
  if (spec.wireless) mkdirSync(join(root, net, 'wireless'), { recursive: true });
}

export interface Rig {
  dir: string;
  sysroot: string;
  stateDir: string;
  tools: FakeTools;
  env: Record<string, string>;
}

/** A simulated rig; `anyUser`: in a directory another user can reach (see tempDir). */
export function makeRig(spec: RigSpec = {}, where: { anyUser?: boolean } = {}): Rig {
  const dir = tempDir('rig-', where);
  const sysroot = join(dir, 'root');
  writeSysroot(sysroot, spec);
  if (spec.sysrootOverlay) {
    cpSync(spec.sysrootOverlay, sysroot, { recursive: true, verbatimSymlinks: true, force: true });
  }
  const tools = rigTools(join(dir, 'tools'), spec);
  const stateDir = join(dir, 'state');
  const env = agentEnv(tools, stateDir, {
    HOME: dir,
    SONM_REWARDS_SYSROOT: sysroot,
    SONM_REWARDS_CONFIG: join(dir, 'config.json'),
    SONM_REWARDS_SONM_CONFIG_DIR: join(dir, 'etc-sonm'),
  });
  return { dir, sysroot, stateDir, tools, env };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * The argv that starts the agent: this Node and bin/sonm-rewards.cjs, unless
 * SONM_REWARDS_TEST_AGENT names another agent executable (the packaged /usr/bin/sonm-rewards) and
 * SONM_REWARDS_TEST_WRAPPER a command to run it under (the built tools/oldkernel). .ci/run runs
 * the agent's end-to-end tests a second time that way (README "Install on a rig").
 */
export function agentArgv(opts: { anyUser?: boolean } = {}): string[] {
  const agent = process.env.SONM_REWARDS_TEST_AGENT;
  let wrapper = process.env.SONM_REWARDS_TEST_WRAPPER;
  for (const p of [agent, wrapper])
    if (p && !existsSync(p))
      throw new Error(`${p} (from SONM_REWARDS_TEST_AGENT/_WRAPPER) does not exist`);
  // As another user: the checkout's files from a copy that user can read (agentForAnyUser).
  const root = opts.anyUser && !agent ? agentForAnyUser() : ROOT;
  if (opts.anyUser && wrapper) {
    const copy = join(agentForAnyUser(), 'wrapper');
    if (!existsSync(copy)) cpSync(wrapper, copy);
    wrapper = copy;
  }
  const script = [process.execPath, join(root, 'bin', 'sonm-rewards.cjs')];
  return [...(wrapper ? [wrapper] : []), ...(agent ? [agent] : script)];
}

export function runBin(
  bin: 'sonm-rewards' | 'sonm-rewards-service',
  args: string[],
  opts: {
    env?: Record<string, string>;
    timeoutMs?: number;
    cwd?: string;
    uid?: number;
    gid?: number;
    prefix?: string[];
  } = {},
): Promise<CliResult> {
  const started = Date.now();
  // As another user, the agent runs from a copy that user can read (agentForAnyUser).
  const anyUser = opts.uid !== undefined;
  const command =
    bin === 'sonm-rewards'
      ? agentArgv({ anyUser })
      : [process.execPath, join(ROOT, 'bin', `${bin}.js`)];
  const argv = [...(opts.prefix ?? []), ...command, ...args];
  const child = spawn(argv[0]!, argv.slice(1), {
    env: { ...opts.env },
    cwd: opts.cwd ?? (anyUser ? agentForAnyUser() : ROOT),
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: opts.uid,
    gid: opts.gid,
  });
  return collect(child, opts.timeoutMs ?? 30_000).then((r) => ({
    ...r,
    ms: Date.now() - started,
  }));
}

export function runCli(
  rig: Rig | null,
  args: string[],
  opts: {
    env?: Record<string, string>;
    timeoutMs?: number;
    uid?: number;
    gid?: number;
    prefix?: string[];
  } = {},
): Promise<CliResult> {
  return runBin('sonm-rewards', args, {
    ...opts,
    env: { ...(rig?.env ?? { PATH: process.env.PATH ?? '' }), ...opts.env },
  });
}
