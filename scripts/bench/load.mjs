// Load generator for the service benchmark, run as its own process so that it does not share
// an event loop with what it measures. Usage:
//   node scripts/bench/load.mjs <url> <mode: batch|single> <rigs> <requestsPerRig> <concurrency> [warmupPerRig] [db]
// With [db] (the service's database), each rig is first enrolled, with a verdict listing its six
// GPUs, as of 2010 straight into the database (the operator command's way in, beside the running
// service): the service pays no hour before enrolment, nor a GPU that no verdict lists, and the
// generated hours start in 2011. Enrolling again over HTTP then answers 200.
// Prints one JSON line about the timed requests: {reports, requests, seconds, latenciesMs: [...], statuses}.
//
// The first warmupPerRig requests of every rig are sent before the clock starts: a server that
// has just started spends a good part of its first seconds compiling its hot code (V8's
// optimising compiler), which a long-running service has long done.
//
// It shares the machine's two cores with the server it measures, so it is built to cost little:
// every request is built, signed and serialised to bytes before the clock starts, and during
// the run each of `concurrency` keep-alive connections writes one request's bytes and reads one
// response with a minimal HTTP/1.1 parser (Content-Length or chunked), like wrk. node:http's
// client costs about as much CPU per request as a bare node:http server; with it the generator
// took half of what the benchmark was meant to measure. Enrolment is not timed and uses node:http.
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { signRequest } from '../../dist/protocol/signing.js';
import { rawPublicKey, rigIdFromPublicKey } from '../../dist/protocol/ids.js';
import { reportIdFor } from '../../dist/protocol/report-id.js';

const [url, mode, rigsArg, perRigArg, concArg, warmArg, seedDb] = process.argv.slice(2);
const rigs = Number(rigsArg);
const warmupPerRig = Number(warmArg ?? 0);
const perRig = Number(perRigArg) + warmupPerRig;
const concurrency = Number(concArg);
const batchSize = mode === 'batch' ? 500 : 1;
const target = new URL(url);
const START = Date.UTC(2011, 0, 1);

/** A GPU uuid shaped like nvidia-smi's, random-looking as real ones are (not sorted by rig). */
function gpuUuid(rigId, g) {
  const h = createHash('sha256').update(`${rigId}/${g}`).digest('hex');
  return `GPU-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function send(method, path, body, key, keyid) {
  const agent = new Agent({ keepAlive: false });
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers = {
    'content-type': 'application/json',
    ...signRequest({ method, url: `${url}${path}`, body: text, privateKey: key, keyid }),
  };
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** Enrol `id` and save its verdict as of 2010, directly in the service's database. */
async function seed(db, id) {
  const { openSqliteStore } = await import('../../dist/service/store.js');
  const store = openSqliteStore(db);
  const at = new Date(Date.UTC(2010, 0, 1));
  store.enroll(
    {
      publicKey: id.x,
      masterAddress: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
      workerAddress: null,
      agentVersion: 'bench',
      hardware: {},
    },
    id.rigId,
    at,
  );
  store.saveVerdict(
    id.rigId,
    {
      checkedAt: at.toISOString(),
      eligible: true,
      programs: [],
      gpus: id.gpus.map((uuid) => ({ uuid, pciDeviceId: '1b06', qualifying: true })),
    },
    at,
  );
  store.close();
}

const identities = [];
for (let i = 0; i < rigs; i++) {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const x = rawPublicKey(publicKey);
  const rigId = rigIdFromPublicKey(x);
  const id = {
    key: privateKey,
    x,
    rigId,
    gpus: Array.from({ length: 6 }, (_, g) => gpuUuid(rigId, g)),
  };
  identities.push(id);
  if (seedDb) await seed(seedDb, id);
  const r = await send(
    'POST',
    '/v1/rigs',
    {
      publicKey: x,
      masterAddress: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
      workerAddress: null,
      agentVersion: 'bench',
      hardware: {},
    },
    privateKey,
    id.rigId,
  );
  if (r.status !== 201 && r.status !== 200) throw new Error(`enrol answered ${r.status}`);
}

// Every request is built, signed and serialised before the clock starts, rigs interleaved as in
// a fleet (created stays well inside the service's 300 s window).
const jobs = [];
const hours = new Map(identities.map((id) => [id.rigId, 0]));
for (let j = 0; j < perRig; j++) {
  for (const id of identities) {
    const reports = [];
    for (let k = 0; k < batchSize; k++) {
      const hour = hours.get(id.rigId);
      hours.set(id.rigId, hour + 1);
      const h = `${new Date(START + hour * 3_600_000).toISOString().slice(0, 13)}:00:00Z`;
      reports.push({
        reportId: reportIdFor(id.rigId, h),
        rigId: id.rigId,
        hour: h,
        intervalSeconds: 300,
        samples: 12,
        connectedSamples: 12,
        minQualifyingGpus: 6,
        gpus: id.gpus.map((uuid) => ({
          uuid,
          pciDeviceId: '1b06',
          model: 'GTX 1080 Ti',
          qualifying: true,
        })),
        workerAddress: null,
        sonmVersion: 'v0.4.25',
        agentVersion: 'bench',
        seq: hour + 1,
      });
    }
    const text = JSON.stringify({ reports });
    const signed = signRequest({
      method: 'POST',
      url: `${url}/v1/reports`,
      body: text,
      privateKey: id.key,
      keyid: id.rigId,
    });
    const body = Buffer.from(text);
    const head = [
      `POST /v1/reports HTTP/1.1`,
      `Host: ${target.host}`,
      'Content-Type: application/json',
      `Content-Length: ${body.length}`,
      ...Object.entries(signed).map(([k, v]) => `${k}: ${v}`),
    ].join('\r\n');
    jobs.push(Buffer.concat([Buffer.from(`${head}\r\n\r\n`), body]));
  }
}

/** Reads HTTP/1.1 responses off one connection; calls onResponse(status) for each complete one. */
function responseReader(onResponse) {
  let buf = Buffer.alloc(0);
  let status = 0;
  let need = -1; // body bytes still expected (Content-Length), or -1 while reading headers
  let chunked = false;
  return (data) => {
    buf = buf.length ? Buffer.concat([buf, data]) : data;
    for (;;) {
      if (need < 0 && !chunked) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.toString('latin1', 0, end);
        status = Number(head.slice(9, 12));
        const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
        chunked = !cl && /\r\ntransfer-encoding: *chunked/i.test(head);
        need = cl ? Number(cl[1]) : chunked ? -1 : 0;
        buf = buf.subarray(end + 4);
      }
      if (chunked) {
        // One "<hex size>\r\n<data>\r\n" at a time, until the zero-size chunk (no trailers).
        const eol = buf.indexOf('\r\n');
        if (eol < 0) return;
        const size = parseInt(buf.toString('latin1', 0, eol), 16);
        if (buf.length < eol + 2 + size + 2) return;
        buf = buf.subarray(eol + 2 + size + 2);
        if (size > 0) continue;
        chunked = false;
        need = -1;
        onResponse(status);
        continue;
      }
      if (buf.length < need) return;
      buf = buf.subarray(need);
      need = -1;
      onResponse(status);
      if (!buf.length) return;
    }
  };
}

/** Send jobs[from, to) over `concurrency` connections; record statuses and latencies into `into`. */
function run(from, to, into) {
  let next = from;
  return Promise.all(
    Array.from(
      { length: Math.min(concurrency, to - from) },
      () =>
        new Promise((resolve, reject) => {
          const socket = connect({
            host: target.hostname,
            port: Number(target.port),
            noDelay: true,
          });
          let sentAt = 0n;
          const fire = () => {
            if (next >= to) {
              socket.end();
              resolve();
              return;
            }
            const job = jobs[next++];
            sentAt = process.hrtime.bigint();
            socket.write(job);
          };
          socket.on(
            'data',
            responseReader((status) => {
              into.latencies.push(Number(process.hrtime.bigint() - sentAt) / 1e6);
              into.statuses[status] = (into.statuses[status] ?? 0) + 1;
              fire();
            }),
          );
          socket.on('error', reject);
          socket.on('connect', fire);
        }),
    ),
  );
}

const warm = warmupPerRig * rigs;
const warmup = { latencies: [], statuses: {} };
await run(0, warm, warmup);
if (Object.keys(warmup.statuses).some((k) => k !== '200'))
  throw new Error(`the warm-up was answered ${JSON.stringify(warmup.statuses)}`);
const timed = { latencies: [], statuses: {} };
const t0 = process.hrtime.bigint();
await run(warm, jobs.length, timed);
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const requests = jobs.length - warm;
process.stdout.write(
  `${JSON.stringify({
    reports: requests * batchSize,
    requests,
    seconds,
    latenciesMs: timed.latencies,
    statuses: timed.statuses,
  })}\n`,
);
