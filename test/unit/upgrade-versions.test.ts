/**
 * `upgrade`'s verification reads versions the way `check` does (issue 8, "package states"):
 * through probeSonmVersions, which counts installed packages only. A package removed with its
 * configuration left (`rc`, test/fixtures/real-rigs/dpkg-rc-optimus) is "not installed", never
 * "0.4.24 installed"; the real dpkg-query answers from the fixture's status database.
 */
import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { probeSonmVersions } from '../../src/probe/sonm.js';
import { defaultProbeContext } from '../../src/probe/context.js';
import { execTool } from '../../src/lib/exec.js';
import { verify } from '../../src/upgrade/verify.js';
import { FIXTURES } from '../helpers/rig.js';

/** A probe context whose dpkg-query is the real one, reading `statusFile`. */
function ctxFor(statusFile: string) {
  const admin = mkdtempSync(join(tmpdir(), 'dpkg-'));
  copyFileSync(statusFile, join(admin, 'status'));
  return defaultProbeContext({
    exec: (cmd, args, o) =>
      execTool(cmd, cmd === 'dpkg-query' ? [`--admindir=${admin}`, ...args] : args, o),
  });
}

describe('upgrade verification reads installed packages only', () => {
  const facts = (versions: Awaited<ReturnType<typeof probeSonmVersions>>) => ({
    versions,
    services: { 'sonm-worker': 'active', 'sonm-node': 'active', 'sonm-optimus': 'active' },
    worker: null,
    master: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
    targetVersion: '0.4.25',
  });

  it('an rc sonm-optimus after the script is "not installed", not "still 0.4.24"', async () => {
    const versions = await probeSonmVersions(
      ctxFor(join(FIXTURES, 'real-rigs', 'dpkg-rc-optimus', 'dpkg-status')),
    );
    const problems = verify(facts(versions)).problems;
    expect(problems).toContain('sonm-optimus is not installed');
    expect(problems.join('\n')).not.toMatch(/0\.4\.24/);
  });

  it('every component installed at 0.4.25: no version problem', async () => {
    const versions = await probeSonmVersions(ctxFor(join(FIXTURES, 'dpkg', 'all-0.4.25.status')));
    expect(
      verify(facts(versions)).problems.filter((p) => /sonm-(worker|node|cli|optimus) is/.test(p)),
    ).toEqual([]);
  });
});
