/**
 * HTTP Message Signatures (RFC 9421) with Ed25519, and Content-Digest (RFC 9530, sha-256).
 * The agent signs @method, @target-uri and, with a body, content-digest; the service rebuilds the
 * same signature base from what it received and verifies it.
 */
import { hash, randomBytes, sign, verify, type KeyObject } from 'node:crypto';

/** The Content-Digest header value of a body (RFC 9530, sha-256): `sha-256=:<base64>:`. */
export function contentDigest(body: string | Buffer): string {
  return `sha-256=:${hash('sha256', body, 'base64')}:`;
}

export interface SignatureParams {
  components: string[];
  created: number;
  nonce: string;
  keyid: string;
  alg: string;
}

/**
 * The signature parameters as RFC 9421 §2.3 serializes them: the covered components as an
 * inner list, then created, nonce, keyid and alg, in that order.
 */
export function serializeParams(p: SignatureParams): string {
  const components = p.components.map((c) => `"${c}"`).join(' ');
  return `(${components});created=${p.created};nonce="${p.nonce}";keyid="${p.keyid}";alg="${p.alg}"`;
}

/**
 * The signature base (RFC 9421 §2.5): one line per covered component, `"<name>": <value>`
 * (an absent value as empty), then `"@signature-params": <serializedParams>`, joined by
 * newlines.
 */
export function signatureBase(
  values: Record<string, string>,
  components: string[],
  serializedParams: string,
): string {
  const lines = components.map((c) => `"${c}": ${values[c] ?? ''}`);
  lines.push(`"@signature-params": ${serializedParams}`);
  return lines.join('\n');
}

export interface SignInput {
  method: string;
  url: string;
  body?: string | Buffer;
  privateKey: KeyObject;
  keyid: string;
  created?: number;
  nonce?: string;
}

/**
 * Headers that sign a request (docs/protocol.md "Signatures"): Signature-Input and
 * Signature (label sig1, Ed25519 over @method, @target-uri and, with a body, content-digest),
 * plus Content-Digest with a body. `created` (epoch seconds) and `nonce` default to now and 16
 * random bytes. Returns the headers, lower-case; throws only for an unusable private key.
 */
export function signRequest(input: SignInput): Record<string, string> {
  const headers: Record<string, string> = {};
  const components = ['@method', '@target-uri'];
  const values: Record<string, string> = {
    '@method': input.method.toUpperCase(),
    '@target-uri': input.url,
  };
  if (input.body !== undefined) {
    headers['content-digest'] = contentDigest(input.body);
    components.push('content-digest');
    values['content-digest'] = headers['content-digest'];
  }
  const params: SignatureParams = {
    components,
    created: input.created ?? Math.floor(Date.now() / 1000),
    nonce: input.nonce ?? randomBytes(16).toString('base64url'),
    keyid: input.keyid,
    alg: 'ed25519',
  };
  const sig = sign(
    null,
    Buffer.from(signatureBase(values, components, serializeParams(params))),
    input.privateKey,
  );
  headers['signature-input'] = `sig1=${serializeParams(params)}`;
  headers.signature = `sig1=:${sig.toString('base64')}:`;
  return headers;
}

export interface ParsedSignature {
  label: string;
  params: SignatureParams;
  /** The member's value exactly as received: the base must use it verbatim. */
  serializedParams: string;
  signature: Buffer;
}

/** One parameter of an inner list (RFC 8941 §3.1.2): `;key=value`, value a string, integer or token. */
const PARAMETER = String.raw`;[a-z0-9_\-.*]+=(?:"[^"\\]*"|-?\d+|[A-Za-z*][A-Za-z0-9_\-.:/%*]*)`;

/** A Signature-Input of one member (RFC 9421 §4.1): label, covered components, parameters. */
const SIGNATURE_INPUT = new RegExp(
  String.raw`^\s*([a-z*][a-z0-9_\-.*]*)=\(([^)]*)\)((?:${PARAMETER})*)\s*$`,
);

/**
 * Parse the one signature of a request from its Signature-Input and Signature headers (the
 * subset of RFC 8941 structured fields that RFC 9421 uses, one label). Returns the parsed
 * signature, or `{ error }` with one line saying what is wrong; never throws.
 */
export function parseSignatureHeaders(
  signatureInput: string | undefined,
  signature: string | undefined,
): ParsedSignature | { error: string } {
  if (!signatureInput || !signature)
    return {
      error: 'the request is not signed (Signature-Input and Signature headers are required)',
    };
  const m = SIGNATURE_INPUT.exec(signatureInput);
  if (!m) return { error: 'Signature-Input is malformed (exactly one signature is expected)' };
  const label = m[1]!;
  const components =
    m[2]!.trim() === ''
      ? []
      : m[2]!
          .trim()
          .split(/\s+/)
          .map((c) => c.replace(/^"|"$/g, ''));
  const params: Record<string, string | number> = {};
  for (const p of m[3]!.split(';').filter(Boolean)) {
    const eq = p.indexOf('=');
    const k = p.slice(0, eq);
    const v = p.slice(eq + 1);
    params[k] = v.startsWith('"') ? v.slice(1, -1) : /^-?\d+$/.test(v) ? Number(v) : v;
  }
  // The Signature member for this label: "<label>=:<base64>:" (found without compiling a regex per request).
  const member = signature.trim();
  const b64 =
    member.startsWith(`${label}=:`) && member.endsWith(':')
      ? member.slice(label.length + 2, -1)
      : null;
  if (b64 === null || !/^[A-Za-z0-9+/=]+$/.test(b64))
    return { error: `Signature has no entry for label ${label}` };
  if (
    typeof params.created !== 'number' ||
    typeof params.nonce !== 'string' ||
    typeof params.keyid !== 'string' ||
    typeof params.alg !== 'string'
  ) {
    return { error: 'Signature-Input must carry created, nonce, keyid and alg' };
  }
  return {
    label,
    params: {
      components,
      created: params.created,
      nonce: params.nonce,
      keyid: params.keyid,
      alg: params.alg,
    },
    serializedParams: signatureInput.trim().slice(label.length + 1),
    signature: Buffer.from(b64, 'base64'),
  };
}

/**
 * Whether `parsed.signature` is a valid Ed25519 signature by `publicKey` over the signature
 * base rebuilt from `values` (component name → the value as received) and the parameters as
 * received. Returns false, never throws, for any malformed input.
 */
export function verifySignature(
  parsed: ParsedSignature,
  values: Record<string, string>,
  publicKey: KeyObject,
): boolean {
  try {
    return verify(
      null,
      Buffer.from(signatureBase(values, parsed.params.components, parsed.serializedParams)),
      publicKey,
      parsed.signature,
    );
  } catch {
    return false;
  }
}
