/**
 * The eligibility rules as a table: one small pure function per check id, each taking the probe
 * and the program by name and returning an outcome with a reason code. The evaluator
 * (./evaluate.ts) runs them in CHECK_IDS order and adds the requirement text and the remedy
 * (./remedies.ts, by code). Rules are the announcement's table as docs/programs.md records it and
 * docs/decisions.md ("check") decides it (see also rewards-program.md); test/unit/rules.test.ts holds their tables.
 * The GPU and SONM rules are in ./rules-gpu-sonm.ts, to keep each file short.
 */
import type { ProgramRequirements } from './definitions.js';
import {
  fail,
  pass,
  plural,
  unmeasured,
  warn,
  type CheckId,
  type Outcome,
  type Rule,
  type RuleInput,
} from './outcome.js';
import { gpusRule, sonmVersionRule, sonmWorkerRule } from './rules-gpu-sonm.js';

const GIB = 2 ** 30;
const gib = (b: number): string => `${(b / GIB).toFixed(1)} GiB`;
const gb = (b: number): string => `${(b / 1e9).toFixed(1)} GB`;
const ghz = (mhz: number, digits: number): string => `${(mhz / 1000).toFixed(digits)} GHz`;
const archName = (a: string): string => (a === 'x86_64' ? 'x86-64' : a);

/** The requirement each check states, from the program definition. */
export function requiredText(id: CheckId, r: ProgramRequirements): string {
  switch (id) {
    case 'arch':
      return r.architectures.map(archName).join(' or ');
    case 'cpu-cores':
      return `at least ${r.minPhysicalCores} physical cores`;
    case 'cpu-speed':
      return `at least ${ghz(r.minCpuMHz, 1)}`;
    case 'ram':
      return `at least ${Math.round(r.minRamBytes / GIB)} GB`;
    case 'disk':
      return `at least ${Math.round(r.minDiskBytes / 1e9)} GB`;
    case 'network':
      return `wired, at least ${r.minLinkMbps} Mbit/s`;
    case 'gpus':
      return `${r.minGpus} to ${r.maxGpus} ${r.gpuModels.map((m) => m.model).join(' or ')}`;
    case 'sonm-version':
      return `SONM ${r.minSonmVersion} or newer`;
    case 'sonm-worker':
      return 'worker running and connected';
  }
}

function archRule({ probe, program }: RuleInput): Outcome {
  if (!probe.arch.ok) return unmeasured(probe.arch)!;
  const m = probe.arch.value.machine;
  const norm = m === 'amd64' || m === 'x64' ? 'x86_64' : m;
  if (program.requirements.architectures.includes(norm))
    return pass({
      actual: m,
      value: m,
      message: `architecture ${m}`,
    });
  const req = requiredText('arch', program.requirements);
  return fail('arch-unsupported', {
    actual: m,
    value: m,
    message: `architecture ${m} is not ${req}`,
  });
}

function cpuCoresRule({ probe, program }: RuleInput): Outcome {
  if (!probe.cpu.ok) return unmeasured(probe.cpu)!;
  const n = probe.cpu.value.physicalCores;
  const min = program.requirements.minPhysicalCores;
  if (n === null)
    return warn('cores-unknown', {
      actual: null,
      value: null,
      message: 'the number of physical cores is not reported',
    });
  const actual = plural(n, 'physical core');
  if (n >= min) return pass({ actual, value: n, message: actual });
  return fail('too-few-cores', { actual, value: n, message: `${actual}: ${min} needed` });
}

function cpuSpeedRule({ probe, program }: RuleInput): Outcome {
  if (!probe.cpu.ok) return unmeasured(probe.cpu)!;
  const { maxMHz, speedSource } = probe.cpu.value;
  const min = program.requirements.minCpuMHz;
  if (maxMHz === null || maxMHz <= 0) {
    return warn('cpu-speed-unknown', {
      actual: null,
      value: null,
      message: 'the CPU frequency is not reported (common in VMs)',
    });
  }
  const current = speedSource === 'cpuinfo-current';
  const src = current
    ? 'current clock; the rated maximum is not reported'
    : (speedSource ?? 'unknown source');
  const m = { actual: `${ghz(maxMHz, 2)} (${src})`, value: maxMHz };
  if (maxMHz >= min) return pass({ ...m, message: `CPU rated at ${ghz(maxMHz, 2)}` });
  if (current)
    return warn('cpu-clocked-down', {
      ...m,
      message: `the CPU runs at ${ghz(maxMHz, 2)} now; its rated maximum is not reported`,
    });
  return fail('cpu-too-slow', {
    ...m,
    message: `CPU rated at ${ghz(maxMHz, 2)}: ${ghz(min, 1)} needed`,
  });
}

function ramRule({ probe, program }: RuleInput): Outcome {
  if (!probe.memory.ok) return unmeasured(probe.memory)!;
  const { bytes, source, modules } = probe.memory.value;
  const r = program.requirements;
  const needed = `${Math.round(r.minRamBytes / GIB)} GB needed`;
  if (source === 'modules') {
    const actual = `${gib(bytes)} in ${modules ? plural(modules.length, 'module') : '? modules'}`;
    if (bytes >= r.minRamBytes) return pass({ actual, value: bytes, message: `RAM ${actual}` });
    return fail('ram-too-small', { actual, value: bytes, message: `RAM ${gib(bytes)}: ${needed}` });
  }
  const actual = `${gib(bytes)} MemTotal (estimated; run as root to read the modules)`;
  if (bytes >= r.minRamEstimateBytes) {
    const about = Math.round(bytes / GIB + 0.49);
    return pass({
      actual,
      value: bytes,
      message: `RAM about ${about} GB (MemTotal ${gib(bytes)}; firmware reserves a little)`,
    });
  }
  return fail('ram-too-small', {
    actual,
    value: bytes,
    message: `RAM ${Math.round(bytes / GIB)} GB: ${needed}`,
  });
}

function diskRule({ probe, program }: RuleInput): Outcome {
  if (!probe.disk.ok) return unmeasured(probe.disk)!;
  const d = probe.disk.value;
  const min = program.requirements.minDiskBytes;
  const actual = `${gb(d.bytes)} (${d.device}, holds ${d.path})`;
  if (d.bytes >= min) return pass({ actual, value: d.bytes, message: `disk ${actual}` });
  const message = `disk ${gb(d.bytes)}: ${Math.round(min / 1e9)} GB needed`;
  return fail('disk-too-small', { actual, value: d.bytes, message, subject: d.path });
}

function networkRule({ probe, program }: RuleInput): Outcome {
  if (!probe.network.ok) return unmeasured(probe.network)!;
  const n = probe.network.value;
  const min = program.requirements.minLinkMbps;
  if (!n.iface)
    return fail('no-default-route', {
      actual: 'no default route',
      value: null,
      message: 'no default route: the rig is offline',
    });
  const speed = n.speedMbps === null ? 'speed unknown' : `${n.speedMbps} Mbit/s`;
  const via = n.lowerDevices?.length ? ` via ${n.lowerDevices.join(', ')}` : '';
  const m = {
    actual: `${n.iface}, ${n.kind}${via}, ${speed}`,
    value: n.speedMbps,
    subject: n.iface,
  };
  if (n.kind === 'wireless')
    return fail('wireless-link', { ...m, message: `${n.iface} is a wireless link` });
  if (n.kind === 'virtual')
    return fail('virtual-link', {
      ...m,
      message: `the default route goes through ${n.iface}, a virtual interface`,
    });
  if (n.speedMbps === null)
    return warn('link-speed-unknown', {
      ...m,
      value: null,
      message: `${n.iface}: link speed unknown`,
    });
  if (n.speedMbps < min)
    return fail('link-too-slow', {
      ...m,
      message: `${n.iface} links at ${n.speedMbps} Mbit/s: ${min} needed`,
    });
  if (n.kind === 'unknown')
    return warn('link-kind-unknown', {
      ...m,
      message: `${n.iface} could not be identified as wired`,
    });
  return pass({ ...m, message: `${n.iface} wired at ${speed}` });
}

/** The rules, keyed by check id; the evaluator runs them in CHECK_IDS order. */
export const RULES: Record<CheckId, Rule> = {
  arch: archRule,
  'cpu-cores': cpuCoresRule,
  'cpu-speed': cpuSpeedRule,
  ram: ramRule,
  disk: diskRule,
  network: networkRule,
  gpus: gpusRule,
  'sonm-version': sonmVersionRule,
  'sonm-worker': sonmWorkerRule,
};
