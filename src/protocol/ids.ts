/**
 * Identities: the rig id is derived from its Ed25519 public key, so no other key can claim it;
 * the report id is a function of rig id and hour, so a resend is recognised as the same report.
 */
import { createPublicKey, hash, type KeyObject } from 'node:crypto';
import type { HourlyReport } from './types.js';

/** Bytes as base64url without padding (RFC 4648 §5), the encoding of every id and key here. */
export function b64url(buf: Uint8Array): string {
  return Buffer.from(buf).toString('base64url');
}

/**
 * The rig id (docs/protocol.md "Identity"): base64url, no padding, of the first 16 bytes of
 * SHA-256 over the raw 32-byte Ed25519 public key given as base64url; 22 characters.
 * Throws Error when the key is not 32 bytes.
 */
export function rigIdFromPublicKey(publicKeyB64url: string): string {
  const raw = Buffer.from(publicKeyB64url, 'base64url');
  if (raw.length !== 32) throw new Error('an Ed25519 public key has 32 bytes');
  return b64url(hash('sha256', raw, 'buffer').subarray(0, 16));
}

/**
 * The raw 32-byte public key of an Ed25519 KeyObject (public or private), as base64url (the
 * JWK `x`). Throws Error for another kind of key.
 */
export function rawPublicKey(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' }) as { x?: string };
  if (!jwk.x) throw new Error('not an Ed25519 key');
  return jwk.x;
}

/**
 * An Ed25519 public KeyObject from its raw key as base64url (the JWK `x`). Throws when `x` is
 * not a valid Ed25519 key.
 */
export function publicKeyFromRaw(x: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

/**
 * A report's canonical text and its hash: equal content, equal hash, whatever order its keys
 * arrived in. The object is rebuilt in one fixed key order (reports carry no other keys: the
 * schema forbids them), which keeps JSON.stringify on its fast path. `gpus` is the canonical text
 * of the GPU list alone, the part of the text that the service stores once per distinct list.
 */
export function reportFingerprint(r: HourlyReport): { text: string; hash: string; gpus: string } {
  const gpus = r.gpus.map((g) => ({
    uuid: g.uuid,
    pciDeviceId: g.pciDeviceId,
    model: g.model,
    qualifying: g.qualifying,
  }));
  const text = JSON.stringify({
    reportId: r.reportId,
    rigId: r.rigId,
    hour: r.hour,
    intervalSeconds: r.intervalSeconds,
    samples: r.samples,
    connectedSamples: r.connectedSamples,
    minQualifyingGpus: r.minQualifyingGpus,
    gpus,
    workerAddress: r.workerAddress,
    sonmVersion: r.sonmVersion,
    agentVersion: r.agentVersion,
    seq: r.seq,
  });
  // crypto.hash, one call: a third of the cost of createHash().update().digest() on a report.
  return { text, hash: hash('sha256', text, 'base64url'), gpus: JSON.stringify(gpus) };
}
