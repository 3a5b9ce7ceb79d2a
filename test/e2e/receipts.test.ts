/**
 * Signed receipts end to end: the real service binary and the built agent under a shared
 * libfaketime clock. Delivery keeps a verified receipt per hour; `status --proof` exports them and
 * `verify-proof` checks the file offline; a restarted service with another key is a rotation the
 * agent refuses until the supplier confirms it.
 */
import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeRig, runCli, type Rig } from '../helpers/rig.js';
import { activeProgram } from '../helpers/programs.js';
import { startService } from '../helpers/service.js';
import { FakeClockFile } from '../helpers/fake-clock.js';
import { UptimeStore } from '../../src/uptime/store.js';

const BASE = Date.parse('2026-06-01T10:00:20Z');
const FIVE_MIN = 300_000;

async function ticks(
  rig: Rig,
  clock: FakeClockFile,
  service: string,
  from: number,
  n: number,
): Promise<string> {
  let stderr = '';
  for (let i = from; i < from + n; i++) {
    clock.set(BASE + i * FIVE_MIN);
    const r = await runCli(rig, ['report'], {
      env: { ...clock.env(), SONM_REWARDS_SERVICE: service },
    });
    expect(r.code, r.stderr).toBe(0);
    stderr += r.stderr;
  }
  return stderr;
}

describe('receipts signed by the service', () => {
  it(
    'every delivered hour keeps a receipt; the proof verifies offline; one changed byte ' +
      'fails naming the report',
    async () => {
      const rig = makeRig();
      const clock = new FakeClockFile(join(rig.dir, 'clock'));
      clock.set(BASE);
      const svc = await startService(rig.dir, {
        programs: [activeProgram()],
        env: clock.env(),
        dateFromClock: true,
      });
      try {
        await ticks(rig, clock, svc.url, 0, 37); // three complete hours, delivered
        const results = new UptimeStore(rig.stateDir).results();
        expect(results).toHaveLength(3);
        const platform = JSON.parse(
          readFileSync(join(rig.stateDir, 'state.json'), 'utf8'),
        ).serviceKey;
        for (const r of results) expect(r.receipt).toMatchObject({ keyId: platform.keyId, v: 1 });

        const env = { ...clock.env(), SONM_REWARDS_SERVICE: svc.url };
        const proof = await runCli(
          rig,
          ['status', '--proof', '--from', '2026-06-01', '--to', '2026-06-02'],
          { env },
        );
        expect(proof.code, proof.stderr).toBe(0);
        const file = join(rig.dir, 'proof.json');
        writeFileSync(file, proof.stdout);
        const bundle = JSON.parse(proof.stdout);
        expect(bundle).toMatchObject({
          format: 'sonm-rewards-proof/1',
          rigId: results[0]!.reportId.slice(4, 26),
          serviceKeys: [{ keyId: platform.keyId }],
          totals: { hours: 3, creditedHours: 3, usd: 1.5 },
        });

        // Offline: no service, no state directory.
        const ok = await runCli(null, ['verify-proof', file]);
        expect(ok.code, ok.stdout + ok.stderr).toBe(0);
        expect(ok.stdout).toMatch(
          /all 3 receipts hold: 3 credited hours, \$1\.50, signed by service key /,
        );

        // One changed byte in the second receipt's signature, then in the first's credited USD.
        const sig: string = bundle.entries[1].receipt.signature;
        const at = proof.stdout.indexOf(sig) + 10;
        writeFileSync(
          file,
          `${proof.stdout.slice(0, at)}${proof.stdout[at] === 'A' ? 'B' : 'A'}${proof.stdout.slice(at + 1)}`,
        );
        const bad = await runCli(null, ['verify-proof', file]);
        expect(bad.code).toBe(1);
        expect(bad.stdout).toContain(
          `✖ ${bundle.entries[1].result.reportId} (entry 2): ` +
            `the receipt for ${bundle.entries[1].result.reportId} does not verify`,
        );
        expect(bad.stdout).not.toContain(bundle.entries[0].result.reportId);
        writeFileSync(file, proof.stdout.replace('"usd": 0.5', '"usd": 0.6'));
        const usd = await runCli(null, ['verify-proof', file]);
        expect(usd.code).toBe(1);
        expect(usd.stdout).toContain(`✖ ${bundle.entries[0].result.reportId}`);
        expect((await runCli(null, ['verify-proof', join(rig.dir, 'missing.json')])).code).toBe(2);
      } finally {
        await svc.stop();
      }
    },
  );

  it(
    'a service restarted with another key: its answers are not counted, status shows the ' +
      'event, until the supplier confirms the key',
    async () => {
      const rig = makeRig();
      const clock = new FakeClockFile(join(rig.dir, 'clock'));
      clock.set(BASE);
      let svc = await startService(rig.dir, {
        programs: [activeProgram()],
        env: clock.env(),
        dateFromClock: true,
      });
      const env = () => ({ ...clock.env(), SONM_REWARDS_SERVICE: svc.url });
      try {
        await ticks(rig, clock, svc.url, 0, 13); // the first hour, delivered under the first key
        const first = JSON.parse(readFileSync(join(rig.stateDir, 'state.json'), 'utf8')).serviceKey
          .keyId as string;
        await svc.stop();

        const other = join(rig.dir, 'other.key');
        writeFileSync(
          other,
          generateKeyPairSync('ed25519').privateKey.export({
            format: 'pem',
            type: 'pkcs8',
          }) as string,
          { mode: 0o600 },
        );
        // The same database and address: the rig stays enrolled, and the answers carry the new key.
        svc = await startService(rig.dir, {
          programs: [activeProgram()],
          env: clock.env(),
          dateFromClock: true,
          dbPath: svc.dbPath,
          extraArgs: ['--service-key', other, '--listen', new URL(svc.url).host],
        });
        const stderr = await ticks(rig, clock, svc.url, 13, 12);
        expect(stderr).toMatch(
          /1 answer\(s\) not counted as delivered: the answer is signed by key (\S+), not the pinned service key/,
        );
        expect(stderr).toContain(`not the pinned key ${first}`);
        const second = /signed by key (\S+), not the pinned/.exec(stderr)![1]!;
        expect(new UptimeStore(rig.stateDir).results()).toHaveLength(1);

        const status = await runCli(rig, ['status'], { env: env() });
        expect(status.code).toBe(0);
        expect(status.stdout).toContain(
          `! the service ${svc.url} now signs with key ${second}, not the pinned key ${first}`,
        );
        expect(status.stdout).toContain(`sonm-rewards enroll --accept-service-key ${second}`);
        // With a service configured, status links to the rig's and the master's dashboard pages.
        const rigId = new UptimeStore(rig.stateDir).state().enrolled!.rigId;
        expect(status.stdout).toContain(`Dashboard: ${svc.url}/rigs/${rigId}`);
        expect(status.stdout).toContain(
          `${svc.url}/masters/0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed (all rigs of the master)`,
        );
        expect((await runCli(rig, ['status'], { env: clock.env() })).stdout).not.toContain(
          'Dashboard:',
        );
        expect(
          JSON.parse((await runCli(rig, ['status', '--json'], { env: env() })).stdout).counts
            .pending,
        ).toBe(1);

        const wrong = await runCli(rig, ['enroll', '--accept-service-key', 'notThatKey'], {
          env: env(),
        });
        expect(wrong.code).toBe(1);
        expect(wrong.stderr).toContain(`signs with key ${second}, not notThatKey`);
        const yes = await runCli(rig, ['enroll', '--accept-service-key', second], { env: env() });
        expect(yes.code, yes.stderr).toBe(0);
        await ticks(rig, clock, svc.url, 25, 1);
        const results = new UptimeStore(rig.stateDir).results();
        expect(results.map((r) => r.receipt!.keyId)).toEqual([first, second]);
        expect((await runCli(rig, ['status'], { env: env() })).stdout).not.toContain(
          'now signs with key',
        );

        // The bundle carries both keys, and every receipt holds.
        const proof = await runCli(rig, ['status', '--proof'], { env: env() });
        const file = join(rig.dir, 'proof.json');
        writeFileSync(file, proof.stdout);
        expect(JSON.parse(proof.stdout).serviceKeys.map((k: { keyId: string }) => k.keyId)).toEqual(
          [second, first],
        );
        expect((await runCli(null, ['verify-proof', file])).code).toBe(0);
      } finally {
        await svc.stop();
      }
    },
  );
});
