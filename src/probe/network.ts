/**
 * Network: the interface of the default route, whether it is a physical wired NIC, and its link
 * speed. systeminformation calls docker/veth/tun devices "wired", so we read sysfs ourselves.
 *
 * A bond, team or VLAN has no hardware of its own: it is judged by its lower devices
 * (`bonding/slaves`, else the `lower_*` links), a pass when at least one is a wired port.
 * A bridge, a tunnel or Wi-Fi still fails. Sources: the kernel's
 * Documentation/ABI/testing/sysfs-class-net and networking/bonding.rst; the fixtures in
 * test/fixtures/real-rigs/ and test/fixtures/net/ name the public reports they rebuild.
 */
import type { LinkKind, NetworkInfo } from './types.js';
import { existsSys, listSys, readSys, type ProbeContext } from './context.js';

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

const VIRTUAL_NAME =
  /^(docker|veth|br-|virbr|vnet|tun|tap|wg|lo$|vmnet|zt|flannel|cni|cali|kube|tailscale|ppp)/;

/** Wired, wireless, virtual or unknown, for a plain (not aggregate) interface. Pure. */
export function classifyInterface(f: InterfaceFacts): LinkKind {
  if (f.isWireless || /^wl/.test(f.name)) return 'wireless';
  if (VIRTUAL_NAME.test(f.name) || !f.hasDevice) return 'virtual';
  if (f.type === 1) return 'wired';
  return 'unknown';
}

/**
 * The kernel's "unknown" link speeds, as /sys/class/net/<if>/speed prints them: -1
 * (SPEED_UNKNOWN), 0, and the same -1 read as an unsigned 16- or 32-bit number (65535,
 * 4294967295) by older kernels and drivers. ethtool treats exactly 0, (u16)-1 and (u32)-1 as
 * "Unknown!" (netlink/settings.c, quoted in prometheus/node_exporter#1967).
 */
const UNKNOWN_SPEEDS = new Set([0, 65_535, 4_294_967_295]);

/** Link speed in Mbit/s from the `speed` file's text; null when unreadable or "unknown". */
export function parseLinkSpeed(text: string | null): number | null {
  const t = text?.trim() ?? '';
  const v = Number(t);
  if (t === '' || !Number.isInteger(v) || v < 0 || UNKNOWN_SPEEDS.has(v)) return null;
  return v;
}

/** What makes an interface an aggregate of others (bond, team, VLAN), from sysfs. */
export interface AggregateFacts {
  name: string;
  /** DEVTYPE= from the interface's uevent ("bond", "team", "vlan", "bridge", "wlan"), or null. */
  devtype: string | null;
  hasBondingDir: boolean;
  hasBridgeDir: boolean;
}

/** A bond, team or VLAN (judged by its lower devices); bridges are not. Pure. */
export function isAggregate(f: AggregateFacts): boolean {
  if (f.hasBridgeDir || f.devtype === 'bridge') return false;
  if (f.hasBondingDir) return true;
  if (f.devtype === 'bond' || f.devtype === 'team' || f.devtype === 'vlan') return true;
  return /^team\d/.test(f.name);
}

interface Judged {
  kind: LinkKind;
  speedMbps: number | null;
  lowerDevices: string[];
}

function uevent(ctx: ProbeContext, base: string): string | null {
  return /^DEVTYPE=(\S+)$/m.exec(readSys(ctx, `${base}/uevent`) ?? '')?.[1] ?? null;
}

function lowersOf(ctx: ProbeContext, base: string): string[] {
  const slaves = readSys(ctx, `${base}/bonding/slaves`)?.trim();
  if (slaves) return slaves.split(/\s+/);
  return listSys(ctx, base)
    .filter((e) => e.startsWith('lower_'))
    .map((e) => e.slice('lower_'.length));
}

/** A port of an aggregate: Ethernet, not wireless, not named like a virtual device. */
function judgePlain(ctx: ProbeContext, iface: string, asPort: boolean): Judged {
  const base = `/sys/class/net/${iface}`;
  const type = Number(readSys(ctx, `${base}/type`)?.trim());
  const kind = classifyInterface({
    name: iface,
    hasDevice: asPort || existsSys(ctx, `${base}/device`),
    isWireless: existsSys(ctx, `${base}/wireless`) || existsSys(ctx, `${base}/phy80211`),
    type: Number.isFinite(type) ? type : null,
  });
  return { kind, speedMbps: parseLinkSpeed(readSys(ctx, `${base}/speed`)), lowerDevices: [] };
}

/** The speed an aggregate runs at: its active port's (active-backup), else its slowest port's. */
function aggregateSpeed(
  ctx: ProbeContext,
  base: string,
  ports: Map<string, Judged>,
): number | null {
  const active = readSys(ctx, `${base}/bonding/active_slave`)?.trim();
  if (active && ports.has(active)) return ports.get(active)!.speedMbps;
  const known = [...ports.values()].map((p) => p.speedMbps).filter((v): v is number => v !== null);
  return known.length ? Math.min(...known) : null;
}

function judge(ctx: ProbeContext, iface: string, depth: number, asPort: boolean): Judged {
  const base = `/sys/class/net/${iface}`;
  const agg = isAggregate({
    name: iface,
    devtype: uevent(ctx, base),
    hasBondingDir: existsSys(ctx, `${base}/bonding`),
    hasBridgeDir: existsSys(ctx, `${base}/bridge`),
  });
  const lowers = agg && depth < 3 ? lowersOf(ctx, base) : [];
  if (lowers.length === 0) return judgePlain(ctx, iface, asPort && !agg);
  const wired = new Map<string, Judged>();
  const kinds = new Set<LinkKind>();
  for (const l of lowers) {
    const j = judge(ctx, l, depth + 1, true);
    kinds.add(j.kind);
    if (j.kind === 'wired') wired.set(l, j);
  }
  if (wired.size === 0) {
    return {
      kind: kinds.has('wireless') ? 'wireless' : 'virtual',
      speedMbps: null,
      lowerDevices: [],
    };
  }
  const names = [...wired].flatMap(([n, j]) => (j.lowerDevices.length ? j.lowerDevices : [n]));
  return { kind: 'wired', speedMbps: aggregateSpeed(ctx, base, wired), lowerDevices: names };
}

/**
 * The default route's interface, its kind and link speed, reading /proc/net/route and
 * /sys/class/net under ctx.sysroot. Never throws (an unreadable file is "unknown").
 */
export async function probeNetwork(ctx: ProbeContext): Promise<NetworkInfo> {
  const iface = parseDefaultRoute(readSys(ctx, '/proc/net/route') ?? '');
  if (!iface) return { iface: null, kind: 'unknown', speedMbps: null, lowerDevices: [] };
  return { iface, ...judge(ctx, iface, 0, false) };
}
