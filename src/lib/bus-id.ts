/** PCI bus ids (domain:bus:device.function), as nvidia-smi and sysfs spell them. */

/**
 * A PCI bus id in one spelling for comparison: lowercase, the domain as 4 hex digits.
 * nvidia-smi prints "00000000:01:00.0" in its CSV and "0000:01:00.0" in its messages; sysfs
 * prints "0000:01:00.0". Returns null for anything that is not a bus id.
 */
export function normalizeBusId(raw: string | null): string | null {
  const m = raw
    ? /^(?:([0-9a-f]{1,8}):)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i.exec(raw.trim())
    : null;
  if (!m) return null;
  const domain = (m[1] ?? '0').slice(-4).padStart(4, '0');
  return `${domain}:${m[2]}:${m[3]}.${m[4]}`.toLowerCase();
}
