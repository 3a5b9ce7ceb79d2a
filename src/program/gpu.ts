/**
 * The one rule for "this GPU qualifies", used by the evaluator (check), the 5-minute sample and
 * the service's crediting: its PCI device id is one of the program's models
 * (`requirements.gpuModels[].pciDeviceIds`), and its PCI vendor, when reported, is NVIDIA (10de).
 * docs/decisions.md, "GPU identity". Names for cards come from the same ids.
 */
import type { GpuInfo, GpuNotice } from '../probe/types.js';
import { normalizeBusId } from '../lib/bus-id.js';
import type { Program } from './definitions.js';

const NVIDIA = '10de';

/** What the rule reads of a card: nvidia-smi's GpuInfo and a report's ReportGpu both fit. */
export interface GpuIdentity {
  /** Four hex digits, any case ("1b06"); null when unreadable. */
  pciDeviceId: string | null;
  /** Four hex digits, or null/absent when not reported (reports carry no vendor). */
  pciVendorId?: string | null;
}

const idsCache = new WeakMap<Program, ReadonlyMap<string, string>>();

/** The program's qualifying PCI device ids (lowercase) -> model name; computed once per program. */
export function qualifyingIds(program: Program): ReadonlyMap<string, string> {
  let ids = idsCache.get(program);
  if (!ids) {
    const m = new Map<string, string>();
    for (const g of program.requirements.gpuModels)
      for (const id of g.pciDeviceIds) m.set(id.toLowerCase(), g.model);
    ids = m;
    idsCache.set(program, ids);
  }
  return ids;
}

/**
 * The program's model name for `gpu` when it qualifies under `program` (the rule above), else
 * null. Pure; throws nothing.
 */
export function qualifyingModel(program: Program, gpu: GpuIdentity): string | null {
  if (gpu.pciDeviceId === null) return null;
  if (gpu.pciVendorId != null && gpu.pciVendorId.toLowerCase() !== NVIDIA) return null;
  return qualifyingIds(program).get(gpu.pciDeviceId.toLowerCase()) ?? null;
}

/** Whether `gpu` qualifies under `program` (the rule above). Pure; throws nothing. */
export function gpuQualifies(program: Program, gpu: GpuIdentity): boolean {
  return qualifyingModel(program, gpu) !== null;
}

/** Whether `gpu` qualifies under any of `programs`. */
export function gpuQualifiesAny(programs: readonly Program[], gpu: GpuIdentity): boolean {
  return programs.some((p) => gpuQualifies(p, gpu));
}

/** Names for common non-qualifying cards, so the table says what a card is (pci.ids). */
const OTHER_MODELS: Record<string, string> = {
  '1b80': 'GTX 1080',
  '1b81': 'GTX 1070',
  '1b82': 'GTX 1070 Ti',
  '1c03': 'GTX 1060 6GB',
  '1b07': 'P102-100',
  '1e82': 'RTX 2080',
  '1e87': 'RTX 2080',
  '1e09': 'CMP 50HX',
  '1b06': 'GTX 1080 Ti',
  '1e04': 'RTX 2080 Ti',
  '1e07': 'RTX 2080 Ti',
  '2204': 'RTX 3090',
  '2684': 'RTX 4090',
  '2330': 'H100 SXM5 80GB',
  '2335': 'H200',
  '20b0': 'A100 SXM4 40GB',
};

/** A name for a PCI device id from the list of common cards above, or null. */
export function knownModel(pciDeviceId: string | null): string | null {
  return pciDeviceId ? (OTHER_MODELS[pciDeviceId.toLowerCase()] ?? null) : null;
}

/** The card's model: the first program that names its id, else a common card's name, else null. */
export function gpuModel(programs: readonly Program[], pciDeviceId: string | null): string | null {
  if (!pciDeviceId) return null;
  for (const p of programs) {
    const m = qualifyingIds(p).get(pciDeviceId.toLowerCase());
    if (m) return m;
  }
  return knownModel(pciDeviceId);
}

/** A card as `check` shows it: what nvidia-smi said, its model, whether it qualifies, warnings. */
export interface EvaluatedGpu {
  index: number;
  name: string;
  model: string | null;
  pciDeviceId: string | null;
  busId: string | null;
  uuid: string | null;
  memoryMiB: number | null;
  qualifying: boolean;
  /** nvidia-smi's warnings about this card ("infoROM is corrupted at gpu 0000:02:00.0"). */
  warnings: string[];
}

/** Judge each card under `program`, attaching the notices whose bus id is the card's. Pure. */
export function evaluateGpus(
  gpus: GpuInfo[],
  program: Program,
  notices: GpuNotice[] = [],
): EvaluatedGpu[] {
  return gpus.map((g) => ({
    index: g.index,
    name: g.name,
    model: gpuModel([program], g.pciDeviceId),
    pciDeviceId: g.pciDeviceId,
    busId: g.busId,
    uuid: g.uuid,
    memoryMiB: g.memoryMiB,
    qualifying: gpuQualifies(program, g),
    warnings: notices.filter((n) => n.busId === normalizeBusId(g.busId)).map((n) => n.text),
  }));
}
