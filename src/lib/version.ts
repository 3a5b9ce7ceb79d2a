/** SONM versions: optional "v", MAJOR.MINOR.PATCH, optional "-<sha>" or Debian suffix. */
export interface Semver { major: number; minor: number; patch: number; raw: string }

export function parseVersion(input: string | undefined | null): Semver | null {
  if (!input) return null;
  const m = /^\s*v?(\d+)\.(\d+)\.(\d+)(?:[-+~][0-9A-Za-z.+~-]*)?\s*$/.exec(input);
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), raw: input.trim() };
}

export function compareVersions(a: Semver, b: Semver): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

export function formatVersion(v: Semver): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}
