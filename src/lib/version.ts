/** SONM versions: optional "v", MAJOR.MINOR.PATCH, optional "-<sha>" or Debian suffix. */
export interface Semver {
  major: number;
  minor: number;
  patch: number;
  raw: string;
}

/**
 * Parse a SONM version as dpkg-query or `sonmcli version` prints it ("0.4.25", "v0.4.25",
 * "0.4.25-3f2a1c", "0.4.25~bionic"): MAJOR.MINOR.PATCH with an optional suffix, which is
 * ignored when comparing. Returns null for anything else (including null/undefined).
 */
export function parseVersion(input: string | undefined | null): Semver | null {
  if (!input) return null;
  const m = /^\s*v?(\d+)\.(\d+)\.(\d+)(?:[-+~][0-9A-Za-z.+~-]*)?\s*$/.exec(input);
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), raw: input.trim() };
}

/**
 * Order two versions by MAJOR, MINOR, PATCH (suffixes ignored): negative when a < b, 0 when
 * equal, positive when a > b.
 */
export function compareVersions(a: Semver, b: Semver): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/** MAJOR.MINOR.PATCH, without the `v` or suffix the input had. */
export function formatVersion(v: Semver): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}
