/**
 * Request authentication for the service: RFC 9421 signature, RFC 9530 digest, the clock
 * window and the nonce replay cache. Pure of HTTP framework types so it can be tested alone.
 */
import { timingSafeEqual, type KeyObject } from 'node:crypto';
import { CLOCK_WINDOW_SECONDS, NONCE_TTL_SECONDS } from '../protocol/types.js';
import { contentDigest, parseSignatureHeaders, verifySignature } from '../protocol/signing.js';
import { publicKeyFromRaw, rigIdFromPublicKey } from '../protocol/ids.js';

export interface AuthInput {
  method: string;
  targetUri: string;
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer | null;
  /** For enrolment: the key being enrolled (proof of possession). */
  enrollingKey: string | null;
  lookupKey(rigId: string): string | null;
  nowSeconds: number;
  /**
   * When this service started (epoch s): requests signed before it are refused, because the
   * nonces seen before a restart are not kept (docs/threat-model.md, "Replays").
   */
  startedSeconds: number;
}

/** The longest nonce accepted, in characters: a nonce is kept for NONCE_TTL_SECONDS. */
export const MAX_NONCE_LENGTH = 64;

export type AuthResult =
  | { ok: true; rigId: string; nonce: string }
  | { ok: false; status: 400 | 401 | 503; slug: string; detail: string; retryAfter?: number };

const header = (h: AuthInput['headers'], name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v.join(', ') : v;
};

/**
 * Authenticate one request (RFC 9421 over @method, @target-uri and content-digest; RFC 9530;
 * docs/protocol.md): the signature, the clock window, the nonce and the start of the service.
 * Returns the rig id, or why not as a problem's status, slug and detail. Never throws.
 */
export function authenticate(input: AuthInput, nonces: NonceCache): AuthResult {
  const parsed = parseSignatureHeaders(
    header(input.headers, 'signature-input'),
    header(input.headers, 'signature'),
  );
  if ('error' in parsed)
    return { ok: false, status: 401, slug: 'bad-signature', detail: parsed.error };
  const p = parsed.params;
  if (p.alg !== 'ed25519')
    return {
      ok: false,
      status: 401,
      slug: 'bad-signature',
      detail: `alg must be ed25519, got ${p.alg}`,
    };
  const needed = [
    '@method',
    '@target-uri',
    ...(input.rawBody && input.rawBody.length > 0 ? ['content-digest'] : []),
  ];
  const missing = needed.filter((c) => !p.components.includes(c));
  if (missing.length)
    return {
      ok: false,
      status: 401,
      slug: 'bad-signature',
      detail: `the signature must cover ${missing.join(', ')}`,
    };
  if (p.nonce.length === 0 || p.nonce.length > MAX_NONCE_LENGTH) {
    return {
      ok: false,
      status: 401,
      slug: 'bad-signature',
      detail: `the nonce must have 1 to ${MAX_NONCE_LENGTH} characters`,
    };
  }
  const skew = p.created - input.nowSeconds;
  if (Math.abs(skew) > CLOCK_WINDOW_SECONDS) {
    return {
      ok: false,
      status: 401,
      slug: 'clock-skew',
      detail:
        `the request was signed ${Math.abs(skew)} s ${skew > 0 ? 'in the future' : 'ago'}; ` +
        `the rig's clock and the service's differ by more than ${CLOCK_WINDOW_SECONDS} s ` +
        '(see the Date header)',
    };
  }
  let publicKey: string | null;
  if (input.enrollingKey !== null) {
    let derived: string;
    try {
      derived = rigIdFromPublicKey(input.enrollingKey);
    } catch {
      return {
        ok: false,
        status: 400,
        slug: 'bad-request',
        detail: 'publicKey must be a raw 32-byte Ed25519 key in base64url',
      };
    }
    if (derived !== p.keyid)
      return {
        ok: false,
        status: 401,
        slug: 'bad-signature',
        detail: 'keyid is not the rig id of the enclosed publicKey',
      };
    publicKey = input.enrollingKey;
  } else {
    publicKey = input.lookupKey(p.keyid);
    if (!publicKey)
      return {
        ok: false,
        status: 401,
        slug: 'unknown-key',
        detail: `no rig is enrolled with id ${p.keyid}: enrol first (sonm-rewards enroll)`,
      };
  }
  const values: Record<string, string> = {
    '@method': input.method.toUpperCase(),
    '@target-uri': input.targetUri,
  };
  if (p.components.includes('content-digest')) {
    const got = header(input.headers, 'content-digest');
    if (!got)
      return {
        ok: false,
        status: 401,
        slug: 'bad-signature',
        detail: 'Content-Digest is signed but missing',
      };
    const want = contentDigest(input.rawBody ?? Buffer.alloc(0));
    if (got.length !== want.length || !timingSafeEqual(Buffer.from(got), Buffer.from(want))) {
      return {
        ok: false,
        status: 400,
        slug: 'digest-mismatch',
        detail: 'Content-Digest does not match the body',
      };
    }
    values['content-digest'] = got;
  }
  for (const c of p.components)
    if (!(c in values))
      return {
        ok: false,
        status: 401,
        slug: 'bad-signature',
        detail: `unsupported covered component ${c}`,
      };
  let key;
  try {
    key = keyObjectFor(publicKey);
  } catch {
    return { ok: false, status: 401, slug: 'bad-signature', detail: 'the stored key is unusable' };
  }
  if (!verifySignature(parsed, values, key))
    return {
      ok: false,
      status: 401,
      slug: 'bad-signature',
      detail: 'the signature does not verify',
    };
  if (p.created < input.startedSeconds) {
    const retryAfter = input.startedSeconds - p.created;
    return {
      ok: false,
      status: 503,
      slug: 'signed-before-start',
      retryAfter,
      detail:
        'the request was signed before this service started; sign it again ' +
        '(a rig clock behind the service must wait until it passes the start)',
    };
  }
  const added = nonces.add(`${p.keyid}:${p.nonce}`, input.nowSeconds);
  if (added === 'replay')
    return { ok: false, status: 401, slug: 'replay', detail: 'this nonce was already used' };
  if (added === 'full')
    return {
      ok: false,
      status: 503,
      slug: 'busy',
      retryAfter: 5,
      detail: 'too many requests in the last few minutes; try again shortly',
    };
  return { ok: true, rigId: p.keyid, nonce: p.nonce };
}

/** Public keys parsed once per rig: building a KeyObject from JWK costs more than verifying. */
const keyObjects = new Map<string, KeyObject>();
function keyObjectFor(raw: string): KeyObject {
  let k = keyObjects.get(raw);
  if (!k) {
    k = publicKeyFromRaw(raw);
    if (keyObjects.size >= 50_000) keyObjects.delete(keyObjects.keys().next().value!);
    keyObjects.set(raw, k);
  }
  return k;
}

/**
 * Nonces seen in the last NONCE_TTL_SECONDS (the clock window is shorter, so older ones cannot
 * replay). The map is kept in order of expiry (a nonce is deleted before it is set again), so
 * dropping the expired ones stops at the first live one: constant work per request, however many
 * rigs a fleet has. (Scanning the whole map on every request once it held 10,000 nonces made a
 * large fleet's requests cost more the more of them there were.)
 */
export class NonceCache {
  private seen = new Map<string, number>();
  /** `limit`: the most nonces kept at once; beyond it new requests are refused, never a nonce forgotten early. */
  constructor(private readonly limit = 200_000) {}

  /** Record `nonce` at `nowSeconds`: 'ok', 'replay' when it is still remembered, 'full' at the limit. */
  add(nonce: string, nowSeconds: number): 'ok' | 'replay' | 'full' {
    for (const [k, exp] of this.seen) {
      if (exp >= nowSeconds) break;
      this.seen.delete(k);
    }
    const exp = this.seen.get(nonce);
    if (exp !== undefined && exp >= nowSeconds) return 'replay';
    if (exp === undefined && this.seen.size >= this.limit) return 'full';
    this.seen.delete(nonce);
    this.seen.set(nonce, nowSeconds + NONCE_TTL_SECONDS);
    return 'ok';
  }

  get size(): number {
    return this.seen.size;
  }
}
