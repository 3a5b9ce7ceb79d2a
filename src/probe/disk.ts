/**
 * Disk: the raw size of the physical disk that holds the Docker data root (else /).
 * mountinfo gives the mount's device number; /sys/dev/block resolves it to a partition, its
 * parent disk, or through device-mapper slaves to the disk underneath.
 */
import { statfsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { DiskInfo } from './types.js';
import {
  existsSys,
  listSys,
  readSys,
  realpathSys,
  sysPath,
  ProbeError,
  type ProbeContext,
} from './context.js';

export interface MountEntry {
  mountPoint: string;
  majorMinor: string;
  source: string;
  fsType: string;
}

/**
 * Mounts from /proc/self/mountinfo text (`id parent major:minor root mountpoint options
 * [optional…] - fstype source superoptions`; see also proc(5)): device number, mount point
 * (`\040` decoded to a space), file system type and source. Lines with fewer than 10 fields or
 * no `-` after the sixth are skipped. Used for docs/decisions.md, "`check`" (Disk). Pure; throws
 * nothing.
 */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const parts = line.split(' ');
    const dash = parts.indexOf('-');
    if (parts.length < 10 || dash < 6) continue;
    out.push({
      majorMinor: parts[2]!,
      mountPoint: parts[4]!.replace(/\\040/g, ' '),
      fsType: parts[dash + 1]!,
      source: parts[dash + 2]!,
    });
  }
  return out;
}

/**
 * The mount holding `path`: the longest mount point that is a prefix of it (the last one wins on
 * ties); null when none is. Pure; throws nothing.
 */
export function mountFor(mounts: MountEntry[], path: string): MountEntry | null {
  let best: MountEntry | null = null;
  for (const m of mounts) {
    const mp = m.mountPoint;
    const under = mp === '/' || path === mp || path.startsWith(mp.endsWith('/') ? mp : `${mp}/`);
    if (under && (!best || mp.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

/**
 * The Docker data root from daemon.json text (`data-root`, else the older `graph`), when it is an
 * absolute path; null when the text is null, not JSON or names none (the caller then uses
 * /var/lib/docker: docs/decisions.md, "`check`", Disk). Pure; throws nothing.
 */
export function parseDockerDataRoot(daemonJson: string | null): string | null {
  if (!daemonJson) return null;
  try {
    const v = JSON.parse(daemonJson) as { 'data-root'?: unknown; graph?: unknown };
    const root = v['data-root'] ?? v.graph;
    return typeof root === 'string' && root.startsWith('/') ? root : null;
  } catch {
    return null;
  }
}

function diskOf(ctx: ProbeContext, blockDir: string, depth = 0): string {
  // blockDir is a real path under /sys/devices/.../block/<disk>[/<partition>]
  if (depth > 4) return blockDir;
  const slaves = listSys(ctx, `${blockDir}/slaves`.slice(ctx.sysroot.length));
  if (slaves.length > 0) {
    let best = blockDir;
    let bestSize = -1;
    for (const s of slaves) {
      const real = realpathSys(ctx, `/sys/class/block/${s}`);
      if (!real) continue;
      const d = diskOf(ctx, real, depth + 1);
      const size = Number(readSys(ctx, `${d.slice(ctx.sysroot.length)}/size`) ?? 0);
      if (size > bestSize) {
        best = d;
        bestSize = size;
      }
    }
    return best;
  }
  if (existsSys(ctx, `${blockDir.slice(ctx.sysroot.length)}/partition`)) return dirname(blockDir);
  return blockDir;
}

/**
 * The disk under the Docker data root (daemon.json `data-root` or `graph`, else /var/lib/docker
 * when it exists, else /), by docs/decisions.md, "`check`" (Disk): the whole physical disk found
 * through /sys/dev/block (a partition's parent disk, the largest device-mapper slave), its size in
 * bytes (512-byte sectors) and model; without a block device, the file system's size (statfs),
 * `device` its mount source. Rejects with ProbeError ('unreadable') when statfs fails too.
 */
export async function probeDisk(ctx: ProbeContext): Promise<DiskInfo> {
  const dockerRoot =
    parseDockerDataRoot(readSys(ctx, '/etc/docker/daemon.json')) ?? '/var/lib/docker';
  const path = existsSys(ctx, dockerRoot) ? dockerRoot : '/';
  const mounts = parseMountinfo(readSys(ctx, '/proc/self/mountinfo') ?? '');
  const mount = mountFor(mounts, path);
  if (mount) {
    const blockDir = realpathSys(ctx, `/sys/dev/block/${mount.majorMinor}`);
    if (blockDir) {
      const disk = diskOf(ctx, blockDir);
      const rel = disk.slice(ctx.sysroot.length);
      const sectors = Number(readSys(ctx, `${rel}/size`)?.trim());
      if (Number.isFinite(sectors) && sectors > 0) {
        const model = readSys(ctx, `${rel}/device/model`)?.trim() || null;
        return { path, device: `/dev/${basename(disk)}`, bytes: sectors * 512, model };
      }
    }
  }
  // No block device behind the mount (overlay, network file system): fall back to the file system size.
  try {
    const s = statfsSync(sysPath(ctx, path));
    return {
      path,
      device: mount?.source ?? 'unknown (file system size)',
      bytes: s.blocks * s.bsize,
      model: null,
    };
  } catch (e) {
    throw new ProbeError(
      `cannot find the disk holding ${path}: ${(e as Error).message}`,
      'unreadable',
    );
  }
}
