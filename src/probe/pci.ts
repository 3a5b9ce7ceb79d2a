/**
 * The PCI bus's view of the NVIDIA cards: every device under /sys/bus/pci/devices with vendor
 * 0x10de and a display class (0x03xxxx: VGA 0x0300, 3D controller 0x0302). A card the bus shows
 * but nvidia-smi does not list is lost (a failing riser can drop one without any error line).
 * Two small sysfs reads per device; scripts/bench.mjs measures the scan (target: under 5 ms).
 */
import { listSys, readSys, type ProbeContext } from './context.js';

export { normalizeBusId } from '../lib/bus-id.js';

const NVIDIA_VENDOR = '0x10de';

/**
 * Whether a device's sysfs `vendor` and `class` files (as read, e.g. "0x10de\n", "0x030000\n")
 * name an NVIDIA display device. Audio functions (0x0403) and NVSwitches (0x0680) are not.
 */
export function isNvidiaDisplay(vendor: string | null, pciClass: string | null): boolean {
  return (
    vendor?.trim().toLowerCase() === NVIDIA_VENDOR &&
    /^0x03[0-9a-f]{4}$/i.test(pciClass?.trim() ?? '')
  );
}

/**
 * The bus ids ("0000:03:00.0") of the NVIDIA display devices on the PCI bus, sorted; null when
 * /sys/bus/pci/devices cannot be listed (no sysfs, a container). Never throws.
 */
export function scanPciDisplayDevices(ctx: Pick<ProbeContext, 'sysroot'>): string[] | null {
  const dir = '/sys/bus/pci/devices';
  const devices = listSys(ctx, dir);
  if (devices.length === 0) return null;
  return devices
    .filter((d) =>
      isNvidiaDisplay(readSys(ctx, `${dir}/${d}/vendor`), readSys(ctx, `${dir}/${d}/class`)),
    )
    .sort();
}
