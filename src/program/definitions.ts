/**
 * Program definitions are data (programs/default.json): SONM announces new programs over time.
 * parsePrograms validates a definitions document and says exactly which field is wrong.
 */
import { readFileSync } from 'node:fs';
import { parseVersion } from '../lib/version.js';
import { ANNOUNCED_SONM_VERSION } from './announcement.js';

export interface GpuModelRule {
  model: string;
  pciDeviceIds: string[];
}

export interface ProgramRequirements {
  architectures: string[];
  minPhysicalCores: number;
  minCpuMHz: number;
  gpuModels: GpuModelRule[];
  minGpus: number;
  maxGpus: number;
  minRamBytes: number;
  /** MemTotal at or above this counts as meeting minRamBytes (firmware and kernel reserve some). */
  minRamEstimateBytes: number;
  minDiskBytes: number;
  minLinkMbps: number;
  minSonmVersion: string;
}

export interface ProgramReward {
  usdPerGpuDay: number;
  /** Share of an hour's samples that must be connected for the hour to count (0.8 = 10 of 12). */
  minConnectedShare: number;
  /** Reports for hours that ended longer ago than this are refused. */
  reportDeadlineHours: number;
}

export interface Program {
  id: string;
  name: string;
  start: string;
  guaranteedUntil: string;
  extendableUntil: string;
  endsAt: string | null;
  /**
   * Who may start earning (docs/threat-model.md): anyone enrolled (`open`), rigs an operator
   * approved (`review`: hours are held until then), or only existing members (`suspended`).
   */
  admission: Admission;
  /** When admission was suspended: members that joined before it keep earning. */
  admissionSuspendedAt: string | null;
  /** At most this many rigs of one master address are members; null: no cap. */
  maxRigsPerMaster: number | null;
  requirements: ProgramRequirements;
  reward: ProgramReward;
}

export type Admission = 'open' | 'review' | 'suspended';

export class ProgramsFormatError extends Error {}

function fail(path: string, what: string): never {
  throw new ProgramsFormatError(`${path}: ${what}`);
}

function str(o: Record<string, unknown>, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '') fail(`${path}.${key}`, 'must be a non-empty string');
  return v;
}
function date(o: Record<string, unknown>, key: string, path: string): string {
  const v = str(o, key, path);
  if (Number.isNaN(Date.parse(v))) fail(`${path}.${key}`, `"${v}" is not an ISO 8601 date`);
  return new Date(v).toISOString();
}
function num(o: Record<string, unknown>, key: string, path: string, min = 0): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min)
    fail(`${path}.${key}`, `must be a number ≥ ${min}`);
  return v;
}
function obj(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'must be an object');
  return v as Record<string, unknown>;
}

/**
 * One program definition from parsed JSON `raw`, checked field by field against docs/programs.md
 * (sizes in bytes, speeds in MHz and Mbit/s, USD per GPU-day, a share from 0 to 1, hours): dates
 * become ISO 8601 UTC, PCI device ids lower case, `admission` defaults to 'open', the optional
 * fields to null. `path` names the object in messages (default "program"). Throws
 * ProgramsFormatError ("<path>.<field>: what is wrong") at the first invalid field, also when
 * guaranteedUntil is before start or maxGpus below minGpus.
 */
export function parseProgram(raw: unknown, path = 'program'): Program {
  const o = obj(raw, path);
  const req = obj(o.requirements, `${path}.requirements`);
  const rw = obj(o.reward, `${path}.reward`);
  const rp = `${path}.requirements`;
  const archs = req.architectures;
  if (!Array.isArray(archs) || archs.length === 0 || !archs.every((a) => typeof a === 'string'))
    fail(`${rp}.architectures`, 'must be a non-empty list of strings');
  const models = req.gpuModels;
  if (!Array.isArray(models) || models.length === 0)
    fail(`${rp}.gpuModels`, 'must be a non-empty list');
  const gpuModels = models.map((m, i) => {
    const mo = obj(m, `${rp}.gpuModels[${i}]`);
    const ids = mo.pciDeviceIds;
    if (
      !Array.isArray(ids) ||
      ids.length === 0 ||
      !ids.every((x) => typeof x === 'string' && /^[0-9a-fA-F]{4}$/.test(x))
    ) {
      fail(
        `${rp}.gpuModels[${i}].pciDeviceIds`,
        'must list 4-digit hex PCI device ids such as "1b06"',
      );
    }
    return {
      model: str(mo, 'model', `${rp}.gpuModels[${i}]`),
      pciDeviceIds: (ids as string[]).map((x) => x.toLowerCase()),
    };
  });
  const minSonmVersion = str(req, 'minSonmVersion', rp);
  if (!parseVersion(minSonmVersion))
    fail(
      `${rp}.minSonmVersion`,
      `"${minSonmVersion}" is not a version like ${ANNOUNCED_SONM_VERSION}`,
    );
  const admission = o.admission ?? 'open';
  if (admission !== 'open' && admission !== 'review' && admission !== 'suspended') {
    fail(`${path}.admission`, 'must be "open", "review" or "suspended"');
  }
  const maxRigsPerMaster = o.maxRigsPerMaster == null ? null : num(o, 'maxRigsPerMaster', path, 1);
  const endsAt = o.endsAt == null ? null : date(o, 'endsAt', path);
  const admissionSuspendedAt =
    o.admissionSuspendedAt == null ? null : date(o, 'admissionSuspendedAt', path);
  const minGpus = num(req, 'minGpus', rp, 1);
  const maxGpus = num(req, 'maxGpus', rp, 1);
  if (maxGpus < minGpus) fail(`${rp}.maxGpus`, 'must not be below minGpus');
  const share = num(rw, 'minConnectedShare', `${path}.reward`, 0);
  if (share > 1) fail(`${path}.reward.minConnectedShare`, 'must be between 0 and 1');
  const program: Program = {
    id: str(o, 'id', path),
    name: str(o, 'name', path),
    start: date(o, 'start', path),
    guaranteedUntil: date(o, 'guaranteedUntil', path),
    extendableUntil: date(o, 'extendableUntil', path),
    endsAt,
    admission,
    admissionSuspendedAt,
    maxRigsPerMaster,
    requirements: {
      architectures: archs as string[],
      minPhysicalCores: num(req, 'minPhysicalCores', rp, 1),
      minCpuMHz: num(req, 'minCpuMHz', rp),
      gpuModels,
      minGpus,
      maxGpus,
      minRamBytes: num(req, 'minRamBytes', rp),
      minRamEstimateBytes: num(req, 'minRamEstimateBytes', rp),
      minDiskBytes: num(req, 'minDiskBytes', rp),
      minLinkMbps: num(req, 'minLinkMbps', rp),
      minSonmVersion,
    },
    reward: {
      usdPerGpuDay: num(rw, 'usdPerGpuDay', `${path}.reward`),
      minConnectedShare: share,
      reportDeadlineHours: num(rw, 'reportDeadlineHours', `${path}.reward`, 1),
    },
  };
  if (Date.parse(program.guaranteedUntil) < Date.parse(program.start))
    fail(`${path}.guaranteedUntil`, 'is before start');
  return program;
}

/**
 * Parse a definitions document: {"programs": [...]} or a bare list (docs/programs.md), each entry
 * by parseProgram; returns the programs in order. Throws ProgramsFormatError when there is no
 * non-empty list, an entry is invalid (its path in the message), or an id appears twice.
 */
export function parsePrograms(raw: unknown): Program[] {
  const list = Array.isArray(raw) ? raw : (raw as { programs?: unknown } | null)?.programs;
  if (!Array.isArray(list) || list.length === 0)
    throw new ProgramsFormatError('expected {"programs": [ ... ]} with at least one program');
  const programs = list.map((p, i) => parseProgram(p, `programs[${i}]`));
  const ids = new Set<string>();
  for (const p of programs) {
    if (ids.has(p.id)) throw new ProgramsFormatError(`programs: id "${p.id}" appears twice`);
    ids.add(p.id);
  }
  return programs;
}

/**
 * The programs shipped with the package (programs/default.json), the last-resort fallback
 * (docs/programs.md). Throws the fs error, SyntaxError or ProgramsFormatError only when the
 * package's file is missing or broken.
 */
export function builtInPrograms(): Program[] {
  // Resolved from this file so that it works from src/ (tests) and dist/ (the built binary).
  const url = new URL('../../programs/default.json', import.meta.url);
  return parsePrograms(JSON.parse(readFileSync(url, 'utf8')));
}

export type ProgramPhase = 'not-started' | 'guaranteed' | 'extended' | 'ended';

export interface ProgramWindow {
  start: string;
  guaranteedUntil: string;
  /** The effective end: the announced end date, else the furthest it may be extended to. */
  end: string;
  phase: ProgramPhase;
  active: boolean;
}

/**
 * Where `now` falls in the program's window (docs/decisions.md, "Program definitions", The
 * window; docs/programs.md): `end` is `endsAt` ?? `extendableUntil`; the phase is not-started
 * before `start`, ended from `end`, guaranteed before `guaranteedUntil`, else extended; active
 * in those two. Pure; throws nothing.
 */
export function programWindow(p: Program, now: Date): ProgramWindow {
  const t = now.getTime();
  const end = p.endsAt ?? p.extendableUntil;
  let phase: ProgramPhase;
  if (t < Date.parse(p.start)) phase = 'not-started';
  else if (t >= Date.parse(end)) phase = 'ended';
  else if (t < Date.parse(p.guaranteedUntil)) phase = 'guaranteed';
  else phase = 'extended';
  return {
    start: p.start,
    guaranteedUntil: p.guaranteedUntil,
    end,
    phase,
    active: phase === 'guaranteed' || phase === 'extended',
  };
}
