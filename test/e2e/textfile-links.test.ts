/**
 * Files written as root (docs/decisions.md): an unprivileged user (uid 65534) plants links in the
 * textfile directory while root ticks. Nothing outside the directory changes. A directory that
 * user owns is refused with one clear line; a root-owned sticky one (mode 1777) is written, never
 * through a link. The attacker's script is staged in a fresh 0755 directory under the system's
 * temporary directory, so it runs wherever this repository is cloned (a 0700 `mktemp -d` too).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempDir } from '../helpers/rig.js';
import { collect } from '../helpers/process.js';
import { healthyProbe, SimClock, simContext } from '../helpers/sim.js';
import { runTick } from '../../src/commands/report.js';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const stage = mkdtempSync(join(tmpdir(), 'sr-links-'));
chmodSync(stage, 0o755); // mkdtemp makes it 0700: uid 65534 must reach its script
afterAll(() => rmSync(stage, { recursive: true, force: true }));

// Plants links to the victim until the file "stop" appears: at the target's name, and at every
// temporary name a pid-and-milliseconds scheme would use in the next 20 ms (the root process's
// pid is public in /proc; it is passed in to save the search).
const ATTACKER = `
const fs = require('node:fs');
const [dir, victim, stop, pid] = process.argv.slice(2);
let planted = 0;
fs.writeFileSync(dir + '/.attacker-ready', '');
while (!fs.existsSync(stop)) {
  const now = Date.now();
  const names = ['sonm_rewards.prom'];
  for (let ms = now; ms < now + 20; ms++) names.push('.sonm_rewards.prom.' + pid + '.' + ms + '.tmp');
  for (const n of names) {
    try { fs.unlinkSync(dir + '/' + n); } catch {}
    try { fs.symlinkSync(victim, dir + '/' + n); planted++; } catch {}
  }
}
console.log(planted);
`;

function setup(mode: number, owner: number) {
  const base = mkdtempSync(join(stage, 'rig-'));
  chmodSync(base, 0o755);
  const dir = join(base, 'textfile');
  mkdirSync(dir);
  chownSync(dir, owner, owner);
  chmodSync(dir, mode);
  const victim = join(base, 'victim');
  writeFileSync(victim, 'root only\n', { mode: 0o600 });
  const script = join(stage, 'attacker.cjs');
  writeFileSync(script, ATTACKER, { mode: 0o644 });
  return { dir, victim, script, stop: join(base, 'stop') };
}

async function attackWhileTicking(s: ReturnType<typeof setup>, ticks: number) {
  const attacker = spawn(
    process.execPath,
    [s.script, s.dir, s.victim, s.stop, String(process.pid)],
    { uid: NOBODY, gid: NOBODY, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const done = collect(attacker, 120_000);
  await new Promise<void>((resolve, reject) => {
    const poll = (): void => {
      try {
        lstatSync(join(s.dir, '.attacker-ready'));
        resolve();
      } catch {
        if (attacker.exitCode !== null) void done.then((r) => reject(new Error(r.stderr)));
        else setTimeout(poll, 5);
      }
    };
    poll();
  });
  const stateDir = tempDir('links-');
  const clock = new SimClock(Date.parse('2026-06-01T10:00:20Z'));
  let stderr = '';
  for (let i = 0; i < ticks; i++) {
    const captured = { stdout: '', stderr: '' };
    await runTick(simContext(clock, stateDir, { service: null, textfileDir: s.dir }, captured), {
      probe: async () => healthyProbe(clock),
    });
    stderr += captured.stderr;
    clock.advance(300_000);
  }
  writeFileSync(s.stop, '');
  const { code, stdout: out, stderr: err } = await done;
  expect(code).toBe(0);
  return { planted: Number(out.trim()), stderr, err };
}

describe.skipIf(!isRoot)(
  'links planted in the textfile directory while root ticks (needs root)',
  () => {
    it('a root-owned sticky directory (1777): written, never through a link; the victim is untouched', async () => {
      const s = setup(0o1777, 0);
      const r = await attackWhileTicking(s, 40);
      expect(r.planted).toBeGreaterThan(0);
      expect(r.stderr).toBe('');
      expect(readFileSync(s.victim, 'utf8')).toBe('root only\n');
      expect(statSync(s.victim).mode & 0o7777).toBe(0o600);
      const prom = lstatSync(join(s.dir, 'sonm_rewards.prom'));
      expect(prom.isFile() && prom.uid === 0).toBe(true);
      expect(readFileSync(join(s.dir, 'sonm_rewards.prom'), 'utf8')).toMatch(
        /^sonm_rewards_connected 1$/m,
      );
    }, 120_000);

    it('a directory that user owns: refused with one clear line per tick; the victim is untouched', async () => {
      const s = setup(0o755, NOBODY);
      const r = await attackWhileTicking(s, 5);
      expect(r.planted).toBeGreaterThan(0);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(5);
      expect(lines[0]).toMatch(
        new RegExp(
          '^warning: cannot write metrics to .*: refusing to write there as root: ' +
            String.raw`.* belongs to uid 65534, not root \(mode 0755\); make it root-owned`,
        ),
      );
      expect(readFileSync(s.victim, 'utf8')).toBe('root only\n');
      expect(statSync(s.victim).mode & 0o7777).toBe(0o600);
    }, 120_000);
  },
);
