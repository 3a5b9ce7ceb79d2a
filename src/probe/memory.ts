/**
 * RAM: the sum of installed modules (dmidecode, root only), else MemTotal as an estimate.
 * docs/decisions.md, "Program definitions": MemTotal of 14.5 GiB or more counts as a 16 GB
 * machine (`minRamEstimateBytes`; see also ../shared/docs/rewards-program.md).
 */
import type { MemoryInfo } from './types.js';
import { readSys, ProbeError, type ProbeContext } from './context.js';

/**
 * MemTotal from /proc/meminfo text ("MemTotal:  16318028 kB", kB meaning KiB) in bytes, or null
 * when the line is missing. Pure; throws nothing.
 */
export function parseMeminfoTotal(text: string): number | null {
  const m = /^MemTotal:\s+(\d+)\s*kB/m.exec(text);
  return m ? Number(m[1]) * 1024 : null;
}

/**
 * Module sizes in bytes (kB/KB as KiB, MB as MiB, GB as GiB, TB as TiB) from `dmidecode --type 17`
 * output; empty slots are skipped. Pure; throws nothing.
 */
export function parseDmidecodeModules(text: string): number[] {
  const sizes: number[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    if (!/Memory Device/.test(block)) continue;
    const m = /^\s*Size:\s*(\d+)\s*(kB|KB|MB|GB|TB)\b/m.exec(block);
    if (!m) continue;
    const unit = { kB: 2 ** 10, KB: 2 ** 10, MB: 2 ** 20, GB: 2 ** 30, TB: 2 ** 40 }[m[2] as 'kB'];
    sizes.push(Number(m[1]) * unit);
  }
  return sizes;
}

/**
 * Installed RAM in bytes: as root, the sum of the `dmidecode --type 17` modules (deadline
 * `ctx.deadlines.toolMs`, `source: 'modules'`); else, or when dmidecode fails or lists none,
 * MemTotal (`source: 'memtotal'`, an estimate the rules compare with minRamEstimateBytes).
 * docs/decisions.md, "`check`" (RAM) and "Program definitions". Rejects with ProbeError
 * ('unreadable') when /proc/meminfo cannot be read or has no MemTotal.
 */
export async function probeMemory(ctx: ProbeContext): Promise<MemoryInfo> {
  if (ctx.isRoot) {
    const r = await ctx.exec('dmidecode', ['--type', '17'], { timeoutMs: ctx.deadlines.toolMs });
    if (r.exitCode === 0) {
      const modules = parseDmidecodeModules(r.stdout);
      if (modules.length > 0)
        return { bytes: modules.reduce((a, b) => a + b, 0), source: 'modules', modules };
    }
  }
  const text = readSys(ctx, '/proc/meminfo');
  const total = text ? parseMeminfoTotal(text) : null;
  if (total === null) throw new ProbeError('/proc/meminfo has no MemTotal', 'unreadable');
  return { bytes: total, source: 'memtotal', modules: null };
}
