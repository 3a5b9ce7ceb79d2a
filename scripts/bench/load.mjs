// Load generator for the service benchmark, run as its own process so that it does not share
// an event loop with what it measures. Usage:
//   node scripts/bench/load.mjs <url> <mode: batch|single> <rigs> <requestsPerRig> <concurrency>
// Prints one JSON line: {reports, seconds, latenciesMs: [...], statuses}.
import { Agent, request } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import { signRequest } from '../../dist/protocol/signing.js';
import { rawPublicKey, rigIdFromPublicKey } from '../../dist/protocol/ids.js';
import { reportIdFor } from '../../dist/protocol/report-id.js';

const [url, mode, rigsArg, perRigArg, concArg] = process.argv.slice(2);
const rigs = Number(rigsArg);
const perRig = Number(perRigArg);
const concurrency = Number(concArg);
const batchSize = mode === 'batch' ? 500 : 1;
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const START = Date.UTC(2011, 0, 1);

function send(method, path, body, key, keyid) {
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers = { 'content-type': 'application/json', ...signRequest({ method, url: `${url}${path}`, body: text, privateKey: key, keyid }) };
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = request(`${url}${path}`, { method, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

const identities = [];
for (let i = 0; i < rigs; i++) {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const x = rawPublicKey(publicKey);
  const id = { key: privateKey, x, rigId: rigIdFromPublicKey(x) };
  identities.push(id);
  const r = await send('POST', '/v1/rigs', { publicKey: x, masterAddress: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', workerAddress: null, agentVersion: 'bench', hardware: {} }, privateKey, id.rigId);
  if (r.status !== 201 && r.status !== 200) throw new Error(`enrol answered ${r.status}`);
}

// Every request body is built before the clock starts, rigs interleaved as in a fleet.
const jobs = [];
const hours = new Map(identities.map((id) => [id.rigId, 0]));
for (let j = 0; j < perRig; j++) {
  for (const id of identities) {
    const reports = [];
    for (let k = 0; k < batchSize; k++) {
      const hour = hours.get(id.rigId);
      hours.set(id.rigId, hour + 1);
      const h = `${new Date(START + hour * 3_600_000).toISOString().slice(0, 13)}:00:00Z`;
      reports.push({ reportId: reportIdFor(id.rigId, h), rigId: id.rigId, hour: h, intervalSeconds: 300, samples: 12, connectedSamples: 12, minQualifyingGpus: 6,
        gpus: Array.from({ length: 6 }, (_, g) => ({ uuid: `GPU-${id.rigId}-${g}`, pciDeviceId: '1b06', model: 'GTX 1080 Ti', qualifying: true })),
        workerAddress: null, sonmVersion: 'v0.4.25', agentVersion: 'bench', seq: hour + 1 });
    }
    jobs.push({ id, body: { reports } });
  }
}

// Sign every request before the clock starts too (created stays well inside the 300 s window),
// so the generator spends its CPU on sending, not on Ed25519.
for (const job of jobs) {
  job.text = JSON.stringify(job.body);
  job.headers = { 'content-type': 'application/json', ...signRequest({ method: 'POST', url: `${url}/v1/reports`, body: job.text, privateKey: job.id.key, keyid: job.id.rigId }) };
  delete job.body;
}
function post(job) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = request(`${url}/v1/reports`, { method: 'POST', headers: job.headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    });
    req.on('error', reject);
    req.end(job.text);
  });
}

const latencies = [];
const statuses = {};
let next = 0;
const t0 = process.hrtime.bigint();
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (next < jobs.length) {
    const job = jobs[next++];
    const r = await post(job);
    latencies.push(r.ms);
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  }
}));
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
agent.destroy();
process.stdout.write(`${JSON.stringify({ reports: jobs.length * batchSize, requests: jobs.length, seconds, latenciesMs: latencies, statuses })}\n`);
