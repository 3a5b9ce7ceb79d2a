/**
 * The service's own Ed25519 key and the receipts it signs with it (format: src/protocol/receipt.ts,
 * docs/protocol.md "Receipts"). The key is made on first start beside the database
 * (`<db>.service-key`, PKCS#8 PEM, mode 0600) or given with --service-key; a key file that exists
 * but cannot be read stops the service: a new key would break every pin the rigs hold.
 */
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { writeFileAtomic } from '../lib/atomic.js';
import { rawPublicKey } from '../protocol/ids.js';
import {
  serviceKeyId,
  signTreeHead,
  type ReceiptHead,
  type ServiceKey,
} from '../protocol/receipt.js';
import type { ReportResult } from '../protocol/types.js';
import type { Program } from '../program/definitions.js';

export interface ServiceSigningKey extends ServiceKey {
  privateKey: KeyObject;
}

export class ServiceKeyError extends Error {}

function fromPrivate(privateKey: KeyObject): ServiceSigningKey {
  const publicKey = rawPublicKey(createPublicKey(privateKey));
  return { privateKey, publicKey, keyId: serviceKeyId(publicKey), alg: 'ed25519' };
}

/**
 * The key in `path` (PKCS#8 PEM), made there first when `create` and the file is absent.
 * `path` null: a key for this process only (an in-memory database). Throws ServiceKeyError
 * when the file cannot be read or is not an Ed25519 key.
 */
export function loadServiceKey(path: string | null, create: boolean): ServiceSigningKey {
  if (path === null) return fromPrivate(generateKeyPairSync('ed25519').privateKey);
  if (!existsSync(path)) {
    if (!create) throw new ServiceKeyError(`--service-key ${path} does not exist`);
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileAtomic(path, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, 0o600);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ServiceKeyError(
      `the service key ${path} cannot be read (${(e as Error).message}); restore it: a new key breaks every rig's pin`,
    );
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new ServiceKeyError(`the service key ${path} is ${key.asymmetricKeyType}, not Ed25519`);
  try {
    chmodSync(path, 0o600);
  } catch {
    /* a read-only key file is fine */
  }
  return fromPrivate(key);
}

/** The public half as published: GET /v1/platform's serviceKey. */
export const publicServiceKey = (k: ServiceSigningKey): ServiceKey => ({
  keyId: k.keyId,
  publicKey: k.publicKey,
  alg: 'ed25519',
});

/** A JSON Web Key Set (RFC 7517; OKP keys per RFC 8037) with the service key: /.well-known/jwks.json. */
export function jwks(k: ServiceSigningKey): { keys: Record<string, string>[] } {
  return {
    keys: [{ kty: 'OKP', crv: 'Ed25519', x: k.publicKey, kid: k.keyId, use: 'sig', alg: 'EdDSA' }],
  };
}

/**
 * Signs the results of each POST /v1/reports answer: one signature per response, over the tree
 * head of a Merkle tree whose leaves are its results (src/protocol/receipt.ts). `programsBody` is
 * the exact GET /v1/programs body, whose SHA-256 every receipt carries with the program ids.
 */
export class ReceiptSigner {
  private readonly programs: { ids: string; sha256: string };
  constructor(
    private readonly key: ServiceSigningKey,
    programs: Program[],
    programsBody: string,
  ) {
    this.programs = {
      ids: programs.map((p) => p.id).join(','),
      sha256: createHash('sha256').update(programsBody).digest('base64url'),
    };
  }

  /** The signed head for `results`, where `results[i]` answers the report whose content hash is `contentHashes[i]`. */
  sign(results: ReportResult[], contentHashes: string[], now: Date): ReceiptHead {
    return signTreeHead(results, contentHashes, this.key, this.programs, now.toISOString());
  }
}
