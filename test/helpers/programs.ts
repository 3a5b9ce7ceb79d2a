/** Program definition files for tests: the built-in program, moved to a window around `now`. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './rig.js';

export function builtInDoc(): { programs: Record<string, unknown>[] } {
  return JSON.parse(readFileSync(join(ROOT, 'programs', 'default.json'), 'utf8'));
}

/** A copy of the first program with open admission and a window from `start` for a year. */
export function activeProgram(
  start = '2026-01-01T00:00:00Z',
  over: Record<string, unknown> = {},
): Record<string, unknown> {
  const p = builtInDoc().programs[0]!;
  const t = Date.parse(start);
  return {
    ...p,
    id: 'test-program',
    start,
    guaranteedUntil: new Date(t + 90 * 864e5).toISOString(),
    extendableUntil: new Date(t + 730 * 864e5).toISOString(),
    admission: 'open',
    admissionSuspendedAt: null,
    ...over,
  };
}

export function writePrograms(dir: string, programs: Record<string, unknown>[]): string {
  const path = join(dir, 'programs.json');
  writeFileSync(path, JSON.stringify({ programs }, null, 2));
  return path;
}
