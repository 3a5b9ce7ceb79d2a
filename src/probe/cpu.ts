/** CPU: physical cores and the rated maximum frequency (cpufreq max, model name, lscpu, current clock). */
import type { CpuInfo } from './types.js';
import { readSys, type ProbeContext } from './context.js';

export interface CpuinfoFacts {
  model: string | null;
  physicalCores: number | null;
  logicalCpus: number;
  /** From a model name such as "Intel(R) Core(TM) i5-8400 CPU @ 2.80GHz". */
  modelMHz: number | null;
  /** Highest "cpu MHz" line: the current clock, not the rating. */
  currentMHz: number | null;
}

/**
 * Facts from /proc/cpuinfo text (one block per logical CPU, blank lines between): the first
 * `model name`; physical cores as distinct (`physical id`, `core id`) pairs, else the sum of
 * `cpu cores` per package, else null; the count of `processor` blocks; the rated MHz from the
 * model name ("@ 2.80GHz"); the highest `cpu MHz` (the current clock), rounded to whole MHz.
 * docs/decisions.md, "`check`" (CPU speed). Pure; throws nothing.
 */
export function parseCpuinfo(text: string): CpuinfoFacts {
  const blocks = text.split(/\n\s*\n/).filter((b) => /^processor\s*:/m.test(b));
  const cores = new Set<string>();
  const packages = new Map<string, number>();
  let model: string | null = null;
  let currentMHz: number | null = null;
  let haveCoreIds = true;
  for (const block of blocks) {
    const field = (name: string): string | undefined =>
      new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(block)?.[1]?.trim();
    model ??= field('model name') ?? null;
    const mhz = Number(field('cpu MHz'));
    if (Number.isFinite(mhz) && mhz > 0) currentMHz = Math.max(currentMHz ?? 0, mhz);
    const phys = field('physical id') ?? '0';
    const core = field('core id');
    const perPkg = Number(field('cpu cores'));
    if (Number.isFinite(perPkg) && perPkg > 0) packages.set(phys, perPkg);
    if (core === undefined) haveCoreIds = false;
    else cores.add(`${phys}:${core}`);
  }
  let physicalCores: number | null = null;
  if (blocks.length > 0 && haveCoreIds && cores.size > 0) physicalCores = cores.size;
  else if (packages.size > 0) physicalCores = [...packages.values()].reduce((a, b) => a + b, 0);
  const m = model ? /@\s*([\d.]+)\s*([GM])Hz/i.exec(model) : null;
  const modelMHz = m ? Math.round(Number(m[1]) * (m[2]!.toUpperCase() === 'G' ? 1000 : 1)) : null;
  return {
    model,
    physicalCores,
    logicalCpus: blocks.length,
    modelMHz,
    currentMHz: currentMHz === null ? null : Math.round(currentMHz),
  };
}

/** "CPU max MHz: 4700.0000" from lscpu, in whole MHz; null when absent. Pure; throws nothing. */
export function parseLscpuMaxMHz(text: string): number | null {
  const m = /^CPU max MHz:\s*([\d.]+)/m.exec(text);
  const v = m ? Number(m[1]) : NaN;
  return Number.isFinite(v) && v > 0 ? Math.round(v) : null;
}

/**
 * sysfs `cpuinfo_max_freq` text (kHz) in whole MHz; null when missing or not a positive number.
 * Pure; throws nothing.
 */
export function parseCpufreqKHz(text: string | null): number | null {
  const v = Number(text?.trim());
  return Number.isFinite(v) && v > 0 ? Math.round(v / 1000) : null;
}

/**
 * The CPU: model, physical cores (cpuinfo; else, on the real machine, the systeminformation
 * package), logical CPUs, and the rated maximum in MHz with its `speedSource`, in the order of
 * docs/decisions.md, "`check`" (CPU speed): cpufreq `cpuinfo_max_freq` (kHz), the model name,
 * `lscpu`'s max (deadline `ctx.deadlines.toolMs`), the highest current `cpu MHz` (null: none).
 * Missing files and a failing lscpu are not errors (execTool never rejects); rejects only when
 * systeminformation fails to load or run.
 */
export async function probeCpu(ctx: ProbeContext): Promise<CpuInfo> {
  const text = readSys(ctx, '/proc/cpuinfo');
  const facts = text ? parseCpuinfo(text) : null;
  let physicalCores = facts?.physicalCores ?? null;
  if (physicalCores === null && !ctx.sysroot) {
    // Last resort for odd kernels: systeminformation parses lscpu and dmidecode (loaded lazily: it is heavy).
    const si = await import('systeminformation');
    physicalCores = (await si.cpu()).physicalCores || null;
  }
  const cpufreq = parseCpufreqKHz(
    readSys(ctx, '/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq'),
  );
  if (cpufreq)
    return {
      model: facts?.model ?? null,
      physicalCores,
      logicalCpus: facts?.logicalCpus ?? null,
      maxMHz: cpufreq,
      speedSource: 'cpufreq-max',
    };
  if (facts?.modelMHz)
    return {
      model: facts.model,
      physicalCores,
      logicalCpus: facts.logicalCpus,
      maxMHz: facts.modelMHz,
      speedSource: 'model-name',
    };
  const lscpu = await ctx.exec('lscpu', [], { timeoutMs: ctx.deadlines.toolMs });
  const lscpuMHz = lscpu.exitCode === 0 ? parseLscpuMaxMHz(lscpu.stdout) : null;
  if (lscpuMHz)
    return {
      model: facts?.model ?? null,
      physicalCores,
      logicalCpus: facts?.logicalCpus ?? null,
      maxMHz: lscpuMHz,
      speedSource: 'lscpu-max',
    };
  return {
    model: facts?.model ?? null,
    physicalCores,
    logicalCpus: facts?.logicalCpus ?? null,
    maxMHz: facts?.currentMHz ?? null,
    speedSource: facts?.currentMHz ? 'cpuinfo-current' : null,
  };
}
