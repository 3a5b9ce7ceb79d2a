/**
 * The reference rewards service: the whole protocol over fastify. Requests are validated against
 * the schemas of openapi/rewards.openapi.json; signed routes are authenticated before validation.
 * Every resource a client can make it hold is bounded (docs/threat-model.md, "Bounded resources"):
 * time per request, connections per address, body size per route, JSON depth, nonces.
 *
 * About 490 lines on purpose: buildServer is one closure whose routes share what it sets up (the
 * hooks that authenticate and bound each request, the group commit, the receipt signer, the
 * cached bodies), so a route is read beside the bounds that guard it. The routes' logic lives in
 * the modules they call (auth.ts, batch.ts, group-commit.ts, views.ts, dashboard/).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { RewardsStore } from './store.js';
import { loadOpenApi } from './openapi.js';
import { GroupCommit, type Ingestor } from './group-commit.js';
import { readBatch } from './batch.js';
import { REJECT_TEXT } from './credit.js';
import { authenticate, NonceCache } from './auth.js';
import { Metrics } from './metrics.js';
import { CLOCK_WINDOW_SECONDS, MAX_BODY_BYTES, type EnrollRequest } from '../protocol/types.js';
import { parseInstant } from './hours.js';
import type { Program } from '../program/definitions.js';
import { fleetView, ledgerView } from './views.js';
import { registerDashboard } from './dashboard/routes.js';
import { jwks, publicServiceKey, ReceiptSigner, type ServiceSigningKey } from './receipts.js';
import { jsonDepthExceeds } from './json-depth.js';
import type { VerdictBody } from './verdicts.js';

export interface PlatformInfo {
  targetVersion: string;
  installerUrl: string;
  installerSha256: string | null;
}

export const ANNOUNCED_INSTALLER =
  'https://raw.githubusercontent.com/sonm-io/autodeploy/master/sonm-auto-deploy-supplier.sh';

export interface ServiceOptions {
  store: RewardsStore;
  programs: Program[];
  /** GPUs wanted per model ("GTX 1080 Ti": 400); the fleet view compares supply against it. */
  demand: Record<string, number>;
  platform: PlatformInfo;
  /** Ingest in this worker instead of on the main thread (the binary passes one; tests in process do not). */
  ingestor?: Ingestor;
  /** Base URL clients use (behind a proxy); default http://<Host header>. */
  publicUrl?: string;
  now?: () => Date;
  logLevel?: string;
  limits?: Partial<ServiceLimits>;
  /** When this process started (default: now); requests signed before it are refused. */
  startedAt?: Date;
  /** The service's own key: it signs every report result (src/service/receipts.ts). */
  serviceKey: ServiceSigningKey;
}

/** What one client can make the service hold (docs/threat-model.md, "Bounded resources"). */
export interface ServiceLimits {
  /** Whole request, headers and body, in ms; a slower one is answered 408 and closed. */
  requestTimeoutMs: number;
  /** Open connections from one IP address; more are closed at once. */
  connectionsPerAddress: number;
  /** Open connections in all. */
  connections: number;
  /** Nonces remembered at once (NONCE_TTL_SECONDS each). */
  nonces: number;
}

export const DEFAULT_LIMITS: ServiceLimits = {
  requestTimeoutMs: 10_000,
  connectionsPerAddress: 32,
  connections: 4096,
  nonces: 200_000,
};

/** Per-route body limits in bytes, each a few times the largest real body of its route. */
export const BODY_LIMITS = {
  enroll: 16 * 1024,
  eligibility: 64 * 1024,
  reports: MAX_BODY_BYTES,
} as const;

/** The deepest JSON accepted in a body: real bodies are 4 levels deep. */
export const MAX_JSON_DEPTH = 16;

declare module 'fastify' {
  interface FastifyRequest {
    rawBody: Buffer | null;
    rigId: string | null;
  }
  interface FastifyContextConfig {
    signed?: boolean;
  }
}

const PROBLEM_BASE = 'urn:sonm-rewards:problem:';

function problem(
  reply: FastifyReply,
  status: number,
  slug: string,
  title: string,
  detail?: string,
  extra: Record<string, unknown> = {},
): FastifyReply {
  return reply
    .code(status)
    .type('application/problem+json')
    .send({
      type: `${PROBLEM_BASE}${slug}`,
      title,
      status,
      ...(detail ? { detail } : {}),
      ...extra,
    });
}

/** Turn "#/components/schemas/X" references into fastify's "X#" so the OpenAPI schemas can be added as-is. */
function rewriteRefs(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(rewriteRefs);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v))
      out[k] =
        k === '$ref' && typeof x === 'string'
          ? `${x.replace('#/components/schemas/', '')}#`
          : rewriteRefs(x);
    return out;
  }
  return v;
}

function etagOf(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

/** Close connections beyond the per-address and total caps as they arrive. */
function capConnections(app: FastifyInstance, limits: ServiceLimits): void {
  const open = new Map<string, number>();
  app.server.maxConnections = limits.connections;
  app.server.on('connection', (socket: Socket) => {
    const addr = socket.remoteAddress ?? '?';
    const n = (open.get(addr) ?? 0) + 1;
    if (n > limits.connectionsPerAddress) {
      socket.destroy();
      return;
    }
    open.set(addr, n);
    socket.once('close', () => {
      const left = (open.get(addr) ?? 1) - 1;
      if (left === 0) open.delete(addr);
      else open.set(addr, left);
    });
  });
}

/**
 * Node's `clientErrorHandler` for a request HTTP itself refused: one too slow (408, after
 * `timeoutMs` ms), headers too large (431), or not HTTP/1.1 (400), each answered with an RFC 9457
 * problem document and the connection closed (docs/threat-model.md, "Bounded resources").
 * Returns the handler; it throws nothing and writes nothing to a socket no longer writable.
 */
function answerClientError(
  timeoutMs: number,
): (err: Error & { code?: string }, socket: Socket) => void {
  return (err: Error & { code?: string }, socket: Socket) => {
    if (!socket.writable) return;
    const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    const status = timeout ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const body = JSON.stringify({
      type: `${PROBLEM_BASE}${timeout ? 'request-timeout' : 'bad-http'}`,
      title: timeout ? 'Request timeout' : 'Bad request',
      status,
      detail: timeout
        ? `the request was not received within ${timeoutMs} ms`
        : 'the request is not valid HTTP/1.1',
    });
    socket.end(
      `HTTP/1.1 ${status} ${timeout ? 'Request Timeout' : 'Bad Request'}\r\n` +
        'content-type: application/problem+json\r\n' +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  };
}

/**
 * The one body parser: `application/json` read whole, kept as `req.rawBody` (the signature's
 * Content-Digest is over these bytes), refused with 400 MALFORMED_JSON when it nests deeper than
 * MAX_JSON_DEPTH or is not JSON (docs/threat-model.md). Every other content type is refused by
 * Fastify (415). Throws nothing.
 */
function addJsonParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    req.rawBody = body as Buffer;
    if (jsonDepthExceeds(body as Buffer, MAX_JSON_DEPTH)) {
      done(malformed(`the body nests JSON deeper than ${MAX_JSON_DEPTH} levels`), undefined);
      return;
    }
    try {
      done(
        null,
        (body as Buffer).length === 0 ? null : JSON.parse((body as Buffer).toString('utf8')),
      );
    } catch {
      done(malformed('the body is not valid JSON'), undefined);
    }
  });
}

/** A 400 MALFORMED_JSON error for Fastify's error handler, which answers it as a problem. */
function malformed(message: string): Error & { statusCode: number; code: string } {
  return Object.assign(new Error(message), { statusCode: 400, code: 'MALFORMED_JSON' });
}

/**
 * Build the service (not yet listening) from `opts`: its store, programs, demand and limits.
 * Returns the fastify instance; throws only if the OpenAPI document cannot be read.
 */
export async function buildServer(opts: ServiceOptions): Promise<FastifyInstance> {
  const now = opts.now ?? (() => new Date());
  const limits: ServiceLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const startedSeconds = Math.floor((opts.startedAt ?? now()).getTime() / 1000);
  const nonces = new NonceCache(limits.nonces);
  const knownKeys = new Map<string, string>();
  // Request ids: unique per process start, cheap to make (log lines and x-request-id carry them).
  const bootId = randomBytes(4).toString('hex');
  let requestCount = 0;
  const metrics = new Metrics();
  const app = Fastify({
    bodyLimit: MAX_BODY_BYTES,
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: 60_000,
    keepAliveTimeout: 30_000,
    // Node checks the request timeout this often; its default (30 s) would let a slow body live on.
    http: {
      connectionsCheckingInterval: Math.min(1000, limits.requestTimeoutMs),
      headersTimeout: limits.requestTimeoutMs,
    },
    logger:
      opts.logLevel === 'silent'
        ? false
        : { level: opts.logLevel ?? 'info', stream: process.stderr },
    genReqId: () => `${bootId}-${(++requestCount).toString(36)}`,
    requestIdHeader: false,
    ajv: { customOptions: { allErrors: false, coerceTypes: false, removeAdditional: false } },
    // A request too slow, or too malformed for HTTP itself, still gets a problem document.
    clientErrorHandler: answerClientError(limits.requestTimeoutMs),
  });
  for (const [name, schema] of Object.entries(loadOpenApi().components.schemas))
    app.addSchema({ $id: name, ...(rewriteRefs(schema) as object) });
  capConnections(app, limits);

  app.decorateRequest('rawBody', null);
  app.decorateRequest('rigId', null);
  addJsonParser(app);

  const programsBody = JSON.stringify({ programs: opts.programs });
  const programsEtag = etagOf(programsBody);
  const platformBody = JSON.stringify({
    ...opts.platform,
    serviceKey: publicServiceKey(opts.serviceKey),
  });
  const receipts = new ReceiptSigner(opts.serviceKey, opts.programs, programsBody);
  const jwksBody = JSON.stringify(jwks(opts.serviceKey));
  const platformEtag = etagOf(platformBody);

  // Hooks in callback style: synchronous work needs no promise per request per hook.
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    metrics.request(req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime);
    done();
  });

  // Authenticate signed routes before schema validation: an unsigned stranger learns nothing.
  // (A hook that answers the request does not call done.)
  app.addHook('preValidation', (req, reply, done) => {
    if (!req.routeOptions.config.signed) {
      done();
      return;
    }
    const base = opts.publicUrl ?? `http://${req.headers.host ?? 'localhost'}`;
    const body = req.body as { publicKey?: unknown } | null;
    const enrolling = req.routeOptions.url === '/v1/rigs' && req.method === 'POST';
    const result = authenticate(
      {
        method: req.method,
        targetUri: `${base}${req.url}`,
        headers: req.headers,
        rawBody: req.rawBody,
        enrollingKey: enrolling
          ? typeof body?.publicKey === 'string'
            ? body.publicKey
            : ''
          : null,
        lookupKey: (id) => {
          // A rig id is derived from its key, so an enrolled rig's key never changes: cache it.
          let key = knownKeys.get(id);
          if (key === undefined) {
            key = opts.store.rig(id)?.publicKey;
            if (key && knownKeys.size < 100_000) knownKeys.set(id, key);
          }
          return key ?? null;
        },
        nowSeconds: Math.floor(now().getTime() / 1000),
        startedSeconds,
      },
      nonces,
    );
    if (!result.ok) {
      metrics.authFailure(result.slug);
      if (result.retryAfter !== undefined) reply.header('retry-after', String(result.retryAfter));
      const title =
        result.slug === 'clock-skew'
          ? 'Clock skew'
          : result.status === 400
            ? 'Bad request'
            : result.status === 503
              ? 'Unavailable'
              : 'Unauthorized';
      problem(
        reply,
        result.status,
        result.slug,
        title,
        result.detail,
        result.slug === 'clock-skew' ? { serverTime: now().toISOString() } : {},
      );
      return;
    }
    req.rigId = result.rigId;
    done();
  });

  app.setErrorHandler(
    (err: Error & { statusCode?: number; code?: string; validation?: unknown }, req, reply) => {
      if (err.validation) return problem(reply, 400, 'invalid-request', 'Bad request', err.message);
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
        return problem(
          reply,
          413,
          'body-too-large',
          'Payload too large',
          `the body is larger than ${req.routeOptions.bodyLimit ?? MAX_BODY_BYTES} bytes, this route's limit`,
        );
      if (
        err.code === 'MALFORMED_JSON' ||
        err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
        err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
      )
        return problem(reply, err.statusCode ?? 400, 'malformed', 'Bad request', err.message);
      if (err.statusCode && err.statusCode < 500)
        return problem(reply, err.statusCode, 'bad-request', 'Bad request', err.message);
      req.log.error({ err }, 'internal error');
      return problem(
        reply,
        500,
        'internal',
        'Internal error',
        `request ${req.id} failed; see the service log`,
      );
    },
  );
  app.setNotFoundHandler((req, reply) =>
    problem(
      reply,
      404,
      'not-found',
      'Not found',
      `${req.method} ${req.url} is not part of the protocol`,
    ),
  );

  const cached =
    (etag: string, body: string) => async (req: FastifyRequest, reply: FastifyReply) => {
      reply.header('etag', etag).header('cache-control', 'no-cache');
      if (req.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.type('application/json').send(body);
    };
  app.get('/v1/programs', cached(programsEtag, programsBody));
  app.get('/v1/platform', cached(platformEtag, platformBody));
  app.get('/.well-known/jwks.json', cached(etagOf(jwksBody), jwksBody));

  app.post(
    '/v1/rigs',
    {
      bodyLimit: BODY_LIMITS.enroll,
      config: { signed: true },
      schema: { body: { $ref: 'Enroll#' } },
    },
    async (req, reply) => {
      const body = req.body as EnrollRequest;
      const r = opts.store.enroll(
        { ...body, workerAddress: body.workerAddress ?? null },
        req.rigId!,
        now(),
      );
      if (r.status === 'conflict')
        return problem(
          reply,
          409,
          'bound-to-another-master',
          'Conflict',
          `this rig key is bound to master ${r.rig.master}; a key can serve one master`,
        );
      return reply.code(r.status === 'created' ? 201 : 200).send({
        rigId: r.rig.rigId,
        master: r.rig.master,
        enrolledAt: r.rig.enrolledAt,
        serviceKey: publicServiceKey(opts.serviceKey),
      });
    },
  );

  // The rig's own verdict (check --json). Claims are paid only as far as it agrees
  // (docs/threat-model.md); an older verdict never replaces a newer one.
  app.post(
    '/v1/eligibility',
    {
      bodyLimit: BODY_LIMITS.eligibility,
      config: { signed: true },
      schema: { body: { $ref: 'Eligibility#' } },
    },
    async (req, reply) => {
      const body = req.body as VerdictBody;
      const checked = parseInstant(body.checkedAt);
      if (checked === null)
        return problem(
          reply,
          400,
          'invalid-request',
          'Bad request',
          'checkedAt must be a UTC instant such as 2019-04-15T12:00:00Z',
        );
      if (checked > now().getTime() + CLOCK_WINDOW_SECONDS * 1000)
        return problem(reply, 400, 'invalid-request', 'Bad request', 'checkedAt is in the future');
      const saved = opts.store.saveVerdict(req.rigId!, body, now());
      if (saved === 'stale')
        return problem(
          reply,
          409,
          'stale-verdict',
          'Conflict',
          'a verdict checked later than this one is already on file; it stays in force',
        );
      return reply.code(204).send();
    },
  );

  const group: Ingestor = opts.ingestor ?? new GroupCommit(opts.store, opts.programs, now, true);
  app.addHook('onClose', async () => {
    await group.close();
  });
  // Report batches are the hot path: the body is buffered as bytes, authenticated, then parsed,
  // validated against the same OpenAPI schema and fingerprinted by readBatch (src/service/batch.ts).
  await app.register(async (reports) => {
    reports.removeAllContentTypeParsers();
    reports.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
      req.rawBody = body as Buffer;
      done(null, null);
    });
    reports.post('/v1/reports', { config: { signed: true } }, async (req, reply) => {
      const batch = readBatch(req.rawBody ?? Buffer.alloc(0));
      if ('status' in batch)
        return problem(reply, batch.status, batch.slug, batch.title, batch.detail);
      const out = await group.submit(batch.reports, req.rigId!);
      for (const r of out) metrics.report(r.status, r.credited.usd);
      const answered = out.map((r) =>
        r.status === 'rejected' && r.reason
          ? { ...r, detail: REJECT_TEXT[r.reason as keyof typeof REJECT_TEXT] }
          : r,
      );
      return {
        results: answered,
        receipts: receipts.sign(
          answered,
          batch.reports.map((r) => r.fingerprint.hash),
          now(),
        ),
      };
    });
  });

  app.get('/v1/rigs/:rigId/ledger', { config: { signed: true } }, async (req, reply) => {
    const { rigId } = req.params as { rigId: string };
    if (rigId !== req.rigId)
      return problem(reply, 403, 'forbidden', 'Forbidden', 'a rig may read only its own ledger');
    const view = ledgerView(opts.store, rigId, req.query as Record<string, unknown>, now());
    if ('slug' in view) return problem(reply, view.status, view.slug, 'Bad request', view.detail);
    return view;
  });

  app.get('/v1/fleet', async () => fleetView(opts.store, opts.demand, now()));
  registerDashboard(app, { store: opts.store, demand: opts.demand, now });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/metrics', async (_req, reply) =>
    reply.type('text/plain; version=0.0.4').send(metrics.render(opts.store.counts())),
  );
  return app;
}
