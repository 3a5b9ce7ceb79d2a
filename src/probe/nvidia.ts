/**
 * NVIDIA GPUs, from our own nvidia-smi CSV query (not systeminformation.graphics(), which runs
 * nvidia-smi synchronously with no timeout and swallows its errors).
 */
import type { GpuInfo, LostGpu, NvidiaInfo } from './types.js';
import { ProbeError, type ProbeContext } from './context.js';
import type { ExecResult } from '../lib/exec.js';

export const NVIDIA_QUERY_FIELDS = ['index', 'name', 'uuid', 'pci.bus_id', 'pci.device_id', 'memory.total', 'driver_version'] as const;
export const NVIDIA_ARGS = [`--query-gpu=${NVIDIA_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];

/** nvidia-smi's ways of saying "no value". */
const MISSING = /^\[?(N\/A|Not Supported|Insufficient Permissions|Requested functionality has been deprecated|Unknown Error)\]?$/i;

function value(s: string | undefined): string | null {
  const t = s?.trim() ?? '';
  return t === '' || MISSING.test(t) ? null : t;
}

/** "0x1B0610DE" -> device "1b06", vendor "10de". */
export function parsePciId(raw: string | null): { device: string; vendor: string } | null {
  const m = raw ? /^0x([0-9a-f]{4})([0-9a-f]{4})$/i.exec(raw.trim()) : null;
  return m ? { device: m[1]!.toLowerCase(), vendor: m[2]!.toLowerCase() } : null;
}

const LOST = /Unable to determine the device handle for GPU\s+([0-9A-Fa-f:.]+):\s*(.+?)\s*$/;

export interface ParsedNvidiaOutput { gpus: GpuInfo[]; lost: LostGpu[]; unparsed: string[] }

export function parseNvidiaSmiCsv(text: string): ParsedNvidiaOutput {
  const gpus: GpuInfo[] = [];
  const lost: LostGpu[] = [];
  const unparsed: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const l = LOST.exec(line);
    if (l) {
      lost.push({ busId: l[1]!, reason: l[2]!.replace(/\.\s.*$/, '').replace(/\.$/, '') });
      continue;
    }
    const f = line.split(/,\s*/);
    const index = Number(f[0]);
    if (f.length !== NVIDIA_QUERY_FIELDS.length || !Number.isInteger(index)) {
      unparsed.push(line);
      continue;
    }
    const pci = parsePciId(value(f[4]));
    const mem = Number(value(f[5]));
    gpus.push({
      index,
      name: value(f[1]) ?? 'unknown',
      uuid: value(f[2]),
      busId: value(f[3]),
      pciDeviceId: pci?.device ?? null,
      pciVendorId: pci?.vendor ?? null,
      memoryMiB: Number.isFinite(mem) && value(f[5]) !== null ? mem : null,
      driverVersion: value(f[6]),
    });
  }
  return { gpus, lost, unparsed };
}

/** Turn one nvidia-smi run into GPUs, or a ProbeError with a code the evaluator maps to a remedy. */
export function interpretNvidiaSmi(r: ExecResult): NvidiaInfo {
  if (r.notFound) throw new ProbeError('nvidia-smi not found: the NVIDIA driver is not installed', 'not-found');
  if (r.timedOut) throw new ProbeError('nvidia-smi did not answer in time and was killed (a GPU may have fallen off the bus)', 'timeout');
  if (r.spawnError) throw new ProbeError(`nvidia-smi could not be started: ${r.spawnError}`, 'other');
  const all = `${r.stdout}\n${r.stderr}`;
  const parsed = parseNvidiaSmiCsv(r.stdout);
  for (const l of parseNvidiaSmiCsv(r.stderr).lost) if (!parsed.lost.some((x) => x.busId === l.busId)) parsed.lost.push(l);
  const firstLine = (all.split('\n').map((s) => s.trim()).find((s) => s && !LOST.test(s)) ?? '').slice(0, 200);
  if (r.exitCode === 0) return { gpus: parsed.gpus, lost: parsed.lost, warning: null };
  if (r.exitCode === 9) throw new ProbeError(`NVIDIA driver not loaded: ${firstLine || "nvidia-smi couldn't communicate with the NVIDIA driver"}`, 'driver');
  if (r.exitCode === 18) throw new ProbeError(`NVIDIA driver/library version mismatch: ${firstLine}`, 'mismatch');
  if (r.exitCode === 15 || parsed.lost.length > 0) {
    if (parsed.gpus.length > 0 || parsed.lost.length > 0) {
      return { gpus: parsed.gpus, lost: parsed.lost, warning: `nvidia-smi exited ${r.exitCode}: ${parsed.lost.length} GPU(s) lost` };
    }
    throw new ProbeError(`a GPU is lost: ${firstLine || 'nvidia-smi exited 15'}`, 'gpu-lost');
  }
  if (/No (supported GPUs|devices) were found/i.test(all)) return { gpus: [], lost: [], warning: firstLine };
  if (/is not a valid field to query/i.test(all)) throw new ProbeError(`this nvidia-smi is too old for the query: ${firstLine}`, 'other');
  throw new ProbeError(`nvidia-smi exited ${r.exitCode ?? r.signal}: ${firstLine || 'no output'}`, 'other');
}

export async function probeNvidia(ctx: ProbeContext): Promise<NvidiaInfo> {
  const r = await ctx.exec('nvidia-smi', NVIDIA_ARGS, { timeoutMs: ctx.deadlines.nvidiaMs });
  return interpretNvidiaSmi(r);
}
