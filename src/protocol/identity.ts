/**
 * The rig's Ed25519 identity, made on first use and kept in the state directory (mode 0600).
 * A key that exists but cannot be read is an error, never silently replaced: a new key is a new
 * rig id, and the hours of the old one would be orphaned.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { join } from 'node:path';
import { createFileExclusive, ensurePrivateDir } from '../lib/atomic.js';
import { rawPublicKey, rigIdFromPublicKey } from './ids.js';

/**
 * A rig's key pair as the agent uses it: the private key, the raw public key (base64url, 32
 * bytes), the rig id derived from it (src/protocol/ids.ts) and the key file's path.
 */
export interface RigIdentity {
  privateKey: KeyObject;
  publicKey: string;
  rigId: string;
  path: string;
}

/** The rig key exists but cannot be used; the message says to restore it, not replace it. */
export class IdentityError extends Error {}

/** Where the rig key lives in a state directory: `<stateDir>/identity/rig.key` (PKCS #8 PEM). */
export function identityPath(stateDir: string): string {
  return join(stateDir, 'identity', 'rig.key');
}

/**
 * The rig's identity from `stateDir`, or null when there is no key yet. Tightens a key file
 * readable by others to 0600. Throws IdentityError when the file exists but is not a readable
 * Ed25519 key (docs/protocol.md "Identity").
 */
export function loadIdentity(stateDir: string): RigIdentity | null {
  const path = identityPath(stateDir);
  if (!existsSync(path)) return null;
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new IdentityError(
      `the rig key ${path} cannot be read (${(e as Error).message}); ` +
        'restore it from a backup — a new key would be a new rig id',
    );
  }
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  const publicKey = rawPublicKey(createPublicKey(privateKey));
  return { privateKey, publicKey, rigId: rigIdFromPublicKey(publicKey), path };
}

/**
 * The rig's identity from `stateDir`/identity/rig.key, made on first use. Exactly one key is ever
 * made: when two processes race, the one whose link(2) loses reads the winner's key. Returns the
 * identity; throws IdentityError for a key that exists but cannot be read, or the fs error.
 */
export function loadOrCreateIdentity(stateDir: string): RigIdentity {
  const existing = loadIdentity(stateDir);
  if (existing) return existing;
  ensurePrivateDir(stateDir);
  mkdirSync(join(stateDir, 'identity'), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  createFileExclusive(
    identityPath(stateDir),
    privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    0o600,
  );
  return loadIdentity(stateDir)!;
}
