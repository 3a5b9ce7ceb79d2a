/**
 * Races (docs/decisions.md, "Races"): two processes at once, 50 times each, on the built code
 * (dist/). The lock is held by one at a time, also when both find a stale lock to break; the
 * first rig key is made exactly once, and both processes end up with it.
 * Processes start together at a barrier: each writes "ready", then waits for the file "go".
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, tempDir } from '../helpers/rig.js';
import { collect } from '../helpers/process.js';

const ROUNDS = 50;
const dist = (p: string): string => pathToFileURL(join(ROOT, 'dist', p)).href;

const BARRIER = `
import { existsSync, writeFileSync } from 'node:fs';
const [dir, me] = process.argv.slice(1);
writeFileSync(dir + '/ready-' + me, '');
while (!existsSync(dir + '/go')) { /* spin: both start within microseconds */ }
`;

const LOCKER = `${BARRIER}
import { appendFileSync } from 'node:fs';
const { acquireLock, LockBusyError } = await import(${JSON.stringify(dist('lib/lock.js'))});
let held = 0;
for (let i = 0; i < 20; i++) {
  try {
    const lock = acquireLock(dir, 'report');
    appendFileSync(dir + '/log', '+' + me + '\\n');
    for (let j = 0; j < 20000; j++) Math.sqrt(j);
    appendFileSync(dir + '/log', '-' + me + '\\n');
    lock.release();
    held++;
  } catch (e) { if (!(e instanceof LockBusyError)) throw e; }
}
console.log(held);
`;

const KEYMAKER = `${BARRIER}
const { loadOrCreateIdentity } = await import(${JSON.stringify(dist('protocol/identity.js'))});
console.log(loadOrCreateIdentity(dir).rigId);
`;

async function start(script: string, dir: string, me: string): Promise<string> {
  const p = spawn(process.execPath, ['--input-type=module', '-e', script, dir, me], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const r = await collect(p, 120_000);
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Start two copies of `script` on `dir`, release them together, return their outputs. */
async function race(script: string, dir: string): Promise<string[]> {
  const runs = [start(script, dir, 'a'), start(script, dir, 'b')];
  await new Promise<void>((resolve) => {
    const poll = (): void => {
      if (existsSync(join(dir, 'ready-a')) && existsSync(join(dir, 'ready-b'))) resolve();
      else setTimeout(poll, 5);
    };
    poll();
  });
  writeFileSync(join(dir, 'go'), '');
  return Promise.all(runs);
}

/** The lock log must read "+x -x +y -y …": never two holders at once. */
function overlaps(log: string): number {
  let holder: string | null = null;
  let bad = 0;
  for (const line of log.split('\n').filter(Boolean)) {
    if (line[0] === '+') {
      if (holder) bad++;
      holder = line.slice(1);
    } else {
      if (holder !== line.slice(1)) bad++;
      holder = null;
    }
  }
  return bad;
}

describe('races, each run 50 times', () => {
  it('two processes taking the lock, from free and from a stale lock: never two holders', async () => {
    let bad = 0;
    let held = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const dir = tempDir('race-lock-');
      // Every other round starts from a stale lock (its pid does not exist) that both try to break.
      if (i % 2)
        writeFileSync(
          join(dir, 'lock'),
          JSON.stringify({
            pid: 2 ** 22 + 1,
            command: 'report',
            since: '2026-01-01T00:00:00Z',
            start: '1',
          }),
        );
      const outs = await race(LOCKER, dir);
      held += outs.reduce((s, o) => s + Number(o), 0);
      bad += overlaps(readFileSync(join(dir, 'log'), 'utf8'));
    }
    expect(bad).toBe(0);
    expect(held).toBeGreaterThan(ROUNDS); // the lock was really taken, many times
  }, 180_000);

  it('two processes making the first key at once: one key, the same rig id for both', async () => {
    let differ = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const dir = tempDir('race-key-');
      const [a, b] = await race(KEYMAKER, dir);
      if (!a || a !== b) differ++;
      const { loadIdentity } = await import('../../src/protocol/identity.js');
      if (loadIdentity(dir)?.rigId !== a) differ++;
    }
    expect(differ).toBe(0);
  }, 180_000);
});
