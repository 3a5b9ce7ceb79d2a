/**
 * Network: the interface of the default route, whether it is a physical wired NIC, and its link
 * speed. systeminformation calls docker/veth/tun devices "wired", so we read sysfs ourselves.
 */
import type { LinkKind, NetworkInfo } from './types.js';
import { existsSys, readSys, type ProbeContext } from './context.js';

/** The interface of the default IPv4 route with the lowest metric, from /proc/net/route. */
export function parseDefaultRoute(text: string): string | null {
  let best: { iface: string; metric: number } | null = null;
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, dest, , flags, , , metric, mask] = f;
    const up = (parseInt(flags!, 16) & 1) === 1;
    if (dest === '00000000' && mask === '00000000' && up) {
      const m = Number(metric);
      if (!best || m < best.metric) best = { iface: iface!, metric: m };
    }
  }
  return best?.iface ?? null;
}

export interface InterfaceFacts {
  name: string;
  /** /sys/class/net/<if>/device exists: backed by real (or paravirtual) hardware. */
  hasDevice: boolean;
  /** wireless/ or phy80211/ exists. */
  isWireless: boolean;
  /** ARPHRD type; 1 is Ethernet. */
  type: number | null;
}

const VIRTUAL_NAME = /^(docker|veth|br-|virbr|vnet|tun|tap|wg|lo$|vmnet|zt|flannel|cni|cali|kube|tailscale|ppp)/;

export function classifyInterface(f: InterfaceFacts): LinkKind {
  if (f.isWireless || /^wl/.test(f.name)) return 'wireless';
  if (VIRTUAL_NAME.test(f.name) || !f.hasDevice) return 'virtual';
  if (f.type === 1) return 'wired';
  return 'unknown';
}

export function parseLinkSpeed(text: string | null): number | null {
  const v = Number(text?.trim());
  return Number.isFinite(v) && v > 0 ? v : null;
}

export async function probeNetwork(ctx: ProbeContext): Promise<NetworkInfo> {
  const iface = parseDefaultRoute(readSys(ctx, '/proc/net/route') ?? '');
  if (!iface) return { iface: null, kind: 'unknown', speedMbps: null };
  const base = `/sys/class/net/${iface}`;
  const type = Number(readSys(ctx, `${base}/type`)?.trim());
  const kind = classifyInterface({
    name: iface,
    hasDevice: existsSys(ctx, `${base}/device`),
    isWireless: existsSys(ctx, `${base}/wireless`) || existsSys(ctx, `${base}/phy80211`),
    type: Number.isFinite(type) ? type : null,
  });
  return { iface, kind, speedMbps: parseLinkSpeed(readSys(ctx, `${base}/speed`)) };
}
