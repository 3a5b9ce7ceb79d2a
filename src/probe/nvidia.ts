/**
 * NVIDIA GPUs, from our own nvidia-smi CSV query (not systeminformation.graphics(), which runs
 * nvidia-smi synchronously with no timeout and swallows its errors), cross-checked against the
 * PCI bus (./pci.ts).
 *
 * What drivers print, and where each shape comes from (fixtures in test/fixtures/nvidia-smi and
 * test/fixtures/real-rigs name their sources):
 * - a lost card replaces its row with "Unable to determine the device handle for GPU 0000:03:00.0:
 *   GPU is lost" (older drivers) or "...for GPU0000:03:00.0: Unknown Error" (newer, no space);
 * - a card that breaks while being queried keeps its row with bracketed error placeholders in its
 *   fields ("[GPU is lost]", "[GPU requires reset]", "[Unknown Error]");
 * - "[N/A]", "[Not Supported]", "[Insufficient Permissions]" mean a value is missing, not a fault;
 * - "WARNING: infoROM is corrupted at gpu 0000:02:00.0" may sit among the rows (exit 14);
 * - exit codes are NVML's return values (nvmlReturn_t): 14 infoROM corrupted (a warning),
 *   15 GPU lost, 9 driver not loaded, 18 driver/library mismatch; 255 is nvidia-smi's "other".
 */
import type { GpuInfo, GpuNotice, LostGpu, LostGpuCode, NvidiaInfo } from './types.js';
import { ProbeError, type ProbeContext } from './context.js';
import { normalizeBusId, scanPciDisplayDevices } from './pci.js';
import type { ExecResult } from '../lib/exec.js';

export const NVIDIA_QUERY_FIELDS = [
  'index',
  'name',
  'uuid',
  'pci.bus_id',
  'pci.device_id',
  'memory.total',
  'driver_version',
] as const;
export const NVIDIA_ARGS = [
  `--query-gpu=${NVIDIA_QUERY_FIELDS.join(',')}`,
  '--format=csv,noheader,nounits',
];

/** After this long, `check` tells the user what it is waiting for. */
export const NVIDIA_WAIT_NOTICE_MS = 3_000;
/**
 * Slower than this, nvidia-smi is "slow": with persistence mode it answers in well under a second
 * (27 ms on the H200 of test/fixtures/nvidia-smi/README.md); without it, seconds per card.
 */
export const NVIDIA_SLOW_MS = 5_000;

/**
 * nvidia-smi's ways of saying "no value" (a missing field, not a fault), bracketed or not. Any
 * other bracketed placeholder is an NVML error in place of a value: the card is broken. (Sets
 * and string tests, not regular expressions: the 5-minute tick parses this on every run.)
 */
const MISSING = new Set([
  'n/a',
  'not supported',
  'insufficient permissions',
  'requested functionality has been deprecated',
]);
const bracketed = (t: string): boolean => t.length > 2 && t.startsWith('[') && t.endsWith(']');
const isMissing = (t: string): boolean =>
  MISSING.has((bracketed(t) ? t.slice(1, -1) : t).toLowerCase());
const BUS = '([0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7])';
const LOST_LINE = new RegExp(
  `Unable to determine the device handle for GPU\\s*${BUS}:\\s*(.+?)\\s*$`,
  'i',
);
const INFOROM = new RegExp(`infoROM is corrupted at gpu\\s*${BUS}`, 'i');

function value(s: string | undefined): string | null {
  const t = s?.trim() ?? '';
  return t === '' || bracketed(t) || isMissing(t) ? null : t;
}

/** "0x1B0610DE" -> device "1b06", vendor "10de"; null for anything else. */
export function parsePciId(raw: string | null): { device: string; vendor: string } | null {
  const m = raw ? /^0x([0-9a-f]{4})([0-9a-f]{4})$/i.exec(raw.trim()) : null;
  return m ? { device: m[1]!.toLowerCase(), vendor: m[2]!.toLowerCase() } : null;
}

/** The lost-card code for nvidia-smi's words ("GPU is lost", "GPU requires reset", …). */
export function lostCode(reason: string): LostGpuCode {
  if (/\blost\b/i.test(reason)) return 'gpu-lost';
  if (/reset/i.test(reason)) return 'reset-required';
  return 'gpu-error';
}

/** "GPU is lost.  Reboot the system to recover this GPU" -> "GPU is lost". */
function firstSentence(text: string): string {
  return text.replace(/\.\s.*$/, '').replace(/\.$/, '');
}

export interface ParsedNvidiaOutput {
  gpus: GpuInfo[];
  lost: LostGpu[];
  notices: GpuNotice[];
  unparsed: string[];
}

/** A CSV row whose fields hold an error placeholder, or whose name is any placeholder: broken. */
function brokenRow(f: string[]): LostGpu | null {
  const errors = f.map((x) => x.trim()).filter((x) => bracketed(x) && !isMissing(x));
  const nameMissing = bracketed(f[1]?.trim() ?? '');
  if (errors.length === 0 && !nameMissing) return null;
  const reason = (errors[0] ?? f[1]!.trim()).slice(1, -1);
  return {
    busId: normalizeBusId(value(f[3])),
    reason,
    code: lostCode(reason),
    source: 'nvidia-smi',
  };
}

function gpuRow(f: string[]): GpuInfo {
  const pci = parsePciId(value(f[4]));
  const mem = Number(value(f[5]));
  return {
    index: Number(f[0]),
    name: value(f[1]) ?? 'unknown',
    uuid: value(f[2]),
    busId: value(f[3]),
    pciDeviceId: pci?.device ?? null,
    pciVendorId: pci?.vendor ?? null,
    memoryMiB: Number.isFinite(mem) && value(f[5]) !== null ? mem : null,
    driverVersion: value(f[6]),
  };
}

/** A line that is not a row: a lost-GPU line, an infoROM warning, or something unknown. */
function parseMessage(line: string, out: ParsedNvidiaOutput): void {
  const l = LOST_LINE.exec(line);
  const w = l ? null : INFOROM.exec(line);
  if (l) {
    const reason = firstSentence(l[2]!);
    out.lost.push({
      busId: normalizeBusId(l[1]!),
      reason,
      code: lostCode(l[2]!),
      source: 'nvidia-smi',
    });
  } else if (w) {
    const text = line.replace(/^WARNING:\s*/i, '');
    out.notices.push({ busId: normalizeBusId(w[1]!)!, code: 'inforom-corrupted', text });
  } else out.unparsed.push(line);
}

/**
 * Parse nvidia-smi's output for NVIDIA_ARGS (noheader, nounits): working cards, lost or broken
 * cards, infoROM warnings, and lines it does not understand. Pure; never throws.
 */
export function parseNvidiaSmiCsv(text: string): ParsedNvidiaOutput {
  const out: ParsedNvidiaOutput = { gpus: [], lost: [], notices: [], unparsed: [] };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const f = line.split(',');
    const isRow = f.length === NVIDIA_QUERY_FIELDS.length;
    // A healthy row has no placeholder: parsed without any regular expression.
    const broken = isRow && line.includes('[') ? brokenRow(f) : null;
    if (broken) out.lost.push(broken);
    else if (isRow && f[0]!.trim() !== '' && Number.isInteger(Number(f[0])))
      out.gpus.push(gpuRow(f));
    else parseMessage(line, out);
  }
  return out;
}

function merge(a: ParsedNvidiaOutput, b: ParsedNvidiaOutput): ParsedNvidiaOutput {
  const seen = new Set(a.lost.map((x) => x.busId));
  return {
    gpus: a.gpus,
    lost: [...a.lost, ...b.lost.filter((x) => !seen.has(x.busId))],
    notices: [...a.notices, ...b.notices],
    unparsed: [...a.unparsed, ...b.unparsed],
  };
}

/**
 * Turn one nvidia-smi run into GPUs, or throw a ProbeError whose code the evaluator maps to a
 * remedy. Exit 0 and 14 (infoROM warning) are data; 15, and 255 with a lost card, are data with
 * lost cards; 9, 18 and every other code are no data. `deadlineMs` is only for the message.
 */
export function interpretNvidiaSmi(r: ExecResult, deadlineMs = 0): NvidiaInfo {
  if (r.notFound) {
    throw new ProbeError(
      'nvidia-smi not found: the NVIDIA driver is not installed',
      'nvidia-smi-not-found',
    );
  }
  if (r.timedOut) {
    const s = Math.round((deadlineMs || r.durationMs) / 1000);
    throw new ProbeError(
      `nvidia-smi did not answer within ${s} s and was stopped`,
      'nvidia-smi-timeout',
    );
  }
  if (r.spawnError)
    throw new ProbeError(`nvidia-smi could not be started: ${r.spawnError}`, 'nvidia-smi-failed');
  const p = merge(parseNvidiaSmiCsv(r.stdout), parseNvidiaSmiCsv(r.stderr));
  const all = `${r.stdout}\n${r.stderr}`;
  const firstLine = (
    p.unparsed[0] ??
    all
      .split('\n')
      .map((s) => s.trim())
      .find(Boolean) ??
    ''
  ).slice(0, 200);
  const info = (warning: string | null): NvidiaInfo => ({
    gpus: p.gpus,
    lost: p.lost,
    notices: p.notices,
    warning,
    answerMs: r.durationMs,
    pciDisplayDevices: null,
  });
  const code = r.exitCode;
  if (code === 0) return info(null);
  if (code === 14) return info('nvidia-smi exited 14: infoROM warning');
  if (code === 9) {
    const why = firstLine || "nvidia-smi couldn't communicate with the NVIDIA driver";
    throw new ProbeError(`NVIDIA driver not loaded: ${why}`, 'driver-not-loaded');
  }
  if (code === 18)
    throw new ProbeError(`NVIDIA driver/library version mismatch: ${firstLine}`, 'driver-mismatch');
  if ((code === 15 || code === 255) && p.lost.length > 0) {
    return info(`nvidia-smi exited ${code}: ${p.lost.length} GPU(s) lost`);
  }
  if (code === 15)
    throw new ProbeError(`a GPU is lost: ${firstLine || 'nvidia-smi exited 15'}`, 'gpu-lost');
  if (/No (supported GPUs|devices) were found/i.test(all))
    return { ...info(firstLine), gpus: [], lost: [] };
  if (/is not a valid field to query/i.test(all)) {
    throw new ProbeError(
      `this nvidia-smi is too old for the query: ${firstLine}`,
      'nvidia-smi-too-old',
    );
  }
  throw new ProbeError(
    `nvidia-smi exited ${code ?? r.signal}: ${firstLine || 'no output'}`,
    'nvidia-smi-failed',
  );
}

/**
 * Cards the PCI bus shows that nvidia-smi neither lists nor reports lost, as lost cards
 * (`not-listed`). `onBus` holds sysfs bus ids; returns `info` with them added. Pure.
 */
export function crossCheckPci(info: NvidiaInfo, onBus: string[] | null): NvidiaInfo {
  if (onBus === null) return info;
  const listed = [...info.gpus.map((g) => g.busId), ...info.lost.map((l) => l.busId)];
  const seen = new Set(listed.map(normalizeBusId));
  const missing = onBus.filter((b) => !seen.has(normalizeBusId(b)));
  const lost: LostGpu[] = missing.map((busId) => ({
    busId,
    reason: 'on the PCI bus, but nvidia-smi does not list it',
    code: 'not-listed',
    source: 'pci',
  }));
  return { ...info, lost: [...info.lost, ...lost], pciDisplayDevices: onBus.length };
}

/**
 * Run nvidia-smi under `deadlineMs` (default: the check's), telling ctx.onWait once it has
 * waited NVIDIA_WAIT_NOTICE_MS, then cross-check against the PCI bus unless `pci` is false (the
 * tick's sample counts only the cards nvidia-smi lists).
 * Throws ProbeError.
 */
export async function probeNvidia(
  ctx: ProbeContext,
  deadlineMs = ctx.deadlines.nvidiaMs,
  pci = true,
): Promise<NvidiaInfo> {
  const timer = ctx.onWait
    ? setTimeout(
        () =>
          ctx.onWait?.(
            `waiting for nvidia-smi (up to ${Math.round(deadlineMs / 1000)} s): ` +
              'without persistence mode it wakes every GPU first',
          ),
        NVIDIA_WAIT_NOTICE_MS,
      )
    : null;
  try {
    const r = await ctx.exec('nvidia-smi', NVIDIA_ARGS, { timeoutMs: deadlineMs });
    const info = interpretNvidiaSmi(r, deadlineMs);
    return pci ? crossCheckPci(info, scanPciDisplayDevices(ctx)) : info;
  } finally {
    if (timer) clearTimeout(timer);
  }
}
