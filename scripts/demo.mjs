#!/usr/bin/env node
// npm run demo: the whole loop in a minute. Starts the reference service with a demo program
// whose window includes today, then drives a simulated rig (fake nvidia-smi/sonmcli/dpkg-query
// on PATH, six RTX 2080 Ti): check, enrol, three hours of 5-minute samples, delivery, status,
// the service's ledger and fleet view, the proof of credited hours, and the dashboard's URL (on a
// terminal the service keeps running until Ctrl-C, so the pages can be opened). Needs a build
// (npm run build) and libfaketime (Debian `faketime`): the service pays no hour that ended before
// the rig enrolled, so the service and the agent's enrolment run on a clock set three hours back,
// then moved to now.
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { ROOT, agentEnv, HEALTHY_SONMCLI, rigTools } from './lib/fake-tools.mjs';
import { DAY_MS, HOUR_MS } from '../dist/lib/time.js';
import { runTick } from '../dist/commands/report.js';
import { resolveSettings } from '../dist/commands/settings.js';
import { loadIdentity } from '../dist/protocol/identity.js';
import { signRequest } from '../dist/protocol/signing.js';
import { httpRequest } from '../dist/lib/http.js';

const dir = mkdtempSync(join(ROOT, '.tmp-demo-'));
const say = (s) => process.stdout.write(`\n\x1b[1m== ${s}\x1b[0m\n`);
const BIN = join(ROOT, 'bin', 'sonm-rewards.cjs');
const MASTER = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';

// One clock for the service and the agent's commands, read by libfaketime from a file.
const libfaketime = readdirSync('/usr/lib')
  .map((d) => join('/usr/lib', d, 'faketime', 'libfaketime.so.1'))
  .find(existsSync);
if (!libfaketime) throw new Error('npm run demo needs libfaketime: apt-get install faketime');
const clockFile = join(dir, 'clock');
const setClock = (ms) => {
  const iso = new Date(ms).toISOString();
  writeFileSync(`${clockFile}.tmp`, `@${iso.slice(0, 10)} ${iso.slice(11, 19)}\n`);
  renameSync(`${clockFile}.tmp`, clockFile);
};
const clockEnv = {
  LD_PRELOAD: libfaketime,
  FAKETIME_TIMESTAMP_FILE: clockFile,
  FAKETIME_NO_CACHE: '1',
  FAKETIME_DONT_FAKE_MONOTONIC: '1',
};
const hour0 = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 3 * HOUR_MS;
setClock(hour0 + 10_000);

// A demo program: the first program's rules, its window moved around today, admission open.
const base = JSON.parse(readFileSync(join(ROOT, 'programs', 'default.json'), 'utf8')).programs[0];
const start = new Date(Date.now() - 30 * DAY_MS).toISOString();
const program = {
  ...base,
  id: 'demo-1080ti-2080ti',
  name: 'Demo: elevated rewards for GTX 1080 Ti / RTX 2080 Ti',
  start,
  guaranteedUntil: new Date(Date.now() + 60 * DAY_MS).toISOString(),
  extendableUntil: new Date(Date.now() + 335 * DAY_MS).toISOString(),
  admission: 'open',
  admissionSuspendedAt: null,
};
writeFileSync(join(dir, 'programs.json'), JSON.stringify({ programs: [program] }));
writeFileSync(join(dir, 'demand.json'), JSON.stringify({ 'GTX 1080 Ti': 400, 'RTX 2080 Ti': 2 }));

say('Start the reference rewards service');
const svc = spawn(
  process.execPath,
  [
    join(ROOT, 'bin', 'sonm-rewards-service.js'),
    '--listen',
    '127.0.0.1:0',
    '--db',
    join(dir, 'rewards.db'),
    '--programs',
    join(dir, 'programs.json'),
    '--demand',
    join(dir, 'demand.json'),
    '--log-level',
    'warn',
  ],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...clockEnv } },
);
const url = await new Promise((resolve) => {
  let out = '';
  svc.stdout.on('data', (d) => {
    out += d;
    if (out.includes('\n')) resolve(out.split('\n')[0].trim());
  });
});
console.log(`sonm-rewards-service listening on ${url}`);

const state = join(dir, 'rig-state');
const tools = rigTools(join(dir, 'tools'));
const env = agentEnv(tools, state, { SONM_REWARDS_SERVICE: url, ...clockEnv });
const cli = (args) => {
  console.log(`$ sonm-rewards ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8' });
  process.stdout.write(r.stdout);
  if (r.stderr.trim())
    process.stdout.write(`${r.stderr.trimEnd().replace(/^/gm, '  [stderr] ')}\n`);
  console.log(`  (exit ${r.status})`);
  return r;
};

try {
  say('1. Does the rig qualify? (six RTX 2080 Ti, SONM 0.4.25, the worker connected)');
  cli(['check', '--programs', join(dir, 'programs.json')]);

  say(
    `2. Enrol the rig at ${new Date(hour0).toISOString().slice(11, 16)} UTC: ` +
      'an Ed25519 key is made on first use; the rig id is derived from it',
  );
  cli(['enroll', '--master', MASTER.toLowerCase()]);
  setClock(Date.now());

  say(
    '3. Three past hours of 5-minute ticks (simulated clock; in hour 2 the master confirmation lapses for 20 minutes)',
  );
  process.env.PATH = env.PATH; // the probe runs the fake tools
  const unconfirmed = readFileSync(
    join(ROOT, 'test/fixtures/sonmcli/worker-status-unconfirmed.json'),
    'utf8',
  );
  const UNCONFIRMED = { match: '*worker status*', stdout: unconfirmed };
  let t = hour0;
  const ctx = {
    settings: { ...resolveSettings({}, { ...env, SONM_REWARDS_SERVICE: '' }, true), service: null },
    json: false,
    verbose: false,
    color: false,
    stdout: { write: () => {}, isTTY: false },
    stderr: { write: () => {}, isTTY: false },
    env,
    now: () => new Date(t),
    sleep: async (ms) => {
      t += ms;
    },
    isRoot: true,
  };
  for (let i = 0; i < 36; i++) {
    t = hour0 + i * 300_000 + 20_000;
    const lapse = i >= 13 && i < 17;
    tools.tool('sonmcli', lapse ? [UNCONFIRMED, ...HEALTHY_SONMCLI] : HEALTHY_SONMCLI);
    const o = await runTick(ctx);
    if (i % 12 === 11 || lapse)
      console.log(
        `  ${new Date(t).toISOString().slice(11, 16)} UTC  ` +
          (o.sample.connected ? 'connected' : `not connected: ${o.sample.reason}`),
      );
  }
  tools.tool('sonmcli', HEALTHY_SONMCLI);

  say(
    '4. A tick now (the timer would run it): it builds the three complete hours and delivers them, signed',
  );
  cli(['report', '--verbose']);

  say('5. What the supplier sees');
  cli(['status', '--days', '1']);

  say("6. The service's ledger for this rig, and the fleet's supply against demand");
  const id = loadIdentity(state);
  const path = `/v1/rigs/${id.rigId}/ledger`;
  const headers = signRequest({
    method: 'GET',
    url: `${url}${path}`,
    privateKey: id.privateKey,
    keyid: id.rigId,
  });
  const ledger = JSON.parse(
    (await httpRequest(`${url}${path}`, { headers, timeoutMs: 5000 })).body,
  );
  for (const h of ledger.hours)
    console.log(
      `  ${h.hour}  ${h.connectedSamples}/${h.samples} samples connected  ` +
        (h.connected ? `credited ${h.gpus} GPUs, $${h.usd}` : 'not connected: not credited'),
    );
  console.log(
    `  total: ${ledger.totals.creditedHours} of ${ledger.totals.hours} hours credited, $${ledger.totals.usd}`,
  );
  const fleet = JSON.parse((await httpRequest(`${url}/v1/fleet`, { timeoutMs: 5000 })).body);
  for (const m of fleet.models)
    console.log(
      `  ${m.model}: ${m.gpus} GPUs on ${m.devices} rig(s) in ${fleet.hour}, ` +
        `demand ${m.demand}, ratio ${m.ratio ?? '–'}${m.belowTarget ? '  (below the 2× target)' : ''}`,
    );

  say('7. The proof: every credited hour, signed by the service, checked offline');
  const proof = spawnSync(process.execPath, [BIN, 'status', '--proof'], { env, encoding: 'utf8' });
  writeFileSync(join(dir, 'proof.json'), proof.stdout);
  cli(['verify-proof', join(dir, 'proof.json')]);

  say('8. The dashboard (read-only, public)');
  console.log(`  fleet:  ${url}/`);
  console.log(`  master: ${url}/masters/${MASTER.toLowerCase()}`);
  console.log(`  rig:    ${url}/rigs/${id.rigId}`);
  if (process.stdout.isTTY) {
    // On a terminal the service keeps serving, so the pages can be opened; Ctrl-C ends the demo.
    console.log(
      `\nDashboard: ${url}/masters/${MASTER.toLowerCase()}  (the service runs until Ctrl-C)`,
    );
    await new Promise((resolve) => process.once('SIGINT', resolve));
  } else
    console.log(
      `\nDashboard: ${url}/masters/${MASTER.toLowerCase()}  ` +
        '(the service stops with the demo; run it on a terminal to keep it)',
    );
} finally {
  svc.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
