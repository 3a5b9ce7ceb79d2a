/**
 * Receipts: the service's signed word for what it answered about one report. Both sides use
 * this file: the service to issue receipts (src/service/receipts.ts), the agent to verify them
 * on delivery and in `verify-proof`. The format is documented in docs/protocol.md ("Receipts").
 *
 * One Ed25519 signature per response, not per report: signing costs about 23 µs here, which at
 * 20,000 reports/s would take most of a core from the HTTP thread. The results of one response
 * are instead the leaves of a Merkle tree (RFC 9162 §2.1, Certificate Transparency's), whose
 * tree head the service signs once and sends beside the results (ReceiptHead). The receiver, who
 * holds every result and report of the response, rebuilds the tree and keeps for each result a
 * self-contained receipt with its inclusion proof, checked alone and offline against the
 * service's public key. (Proofs in the answer itself made it 7× larger, and serialising them cost
 * the service more than the hashing.) The tree and its proofs are the RFC's own algorithms (a few
 * lines), written here so that the agent's bundle needs no further dependency.
 *
 * About 340 lines on purpose: this is the one definition of the format that both sides share
 * (the texts that are signed, the tree, issuing and checking), so it is read in one place.
 */
import { hash, sign, verify, type KeyObject } from 'node:crypto';
import { publicKeyFromRaw, rigIdFromPublicKey } from './ids.js';
import type { ReportResult } from './types.js';

export const RECEIPT_VERSION = 1;

/** The receipt a result carries: what the service signed, and the path from its leaf to the root. */
export interface Receipt {
  v: 1;
  /** The service key's id: base64url of the first 16 bytes of SHA-256 over the raw public key. */
  keyId: string;
  /** SHA-256 (base64url) of the report's canonical text (reportFingerprint). */
  contentHash: string;
  /** Ids of the programs the service credited under, in its order ("a,b"). */
  programs: string;
  /** SHA-256 (base64url) of the program definitions the service serves at GET /v1/programs. */
  programsSha256: string;
  /** When the service signed the response, ISO 8601 UTC. */
  issuedAt: string;
  treeSize: number;
  leafIndex: number;
  /** RFC 9162 inclusion proof: sibling hashes from the leaf up, base64url. */
  inclusionProof: string[];
  /** Ed25519 signature (base64url) over the tree head (treeHeadText). */
  signature: string;
}

/** The service's public key as it publishes it (GET /v1/platform, /.well-known/jwks.json). */
export interface ServiceKey {
  keyId: string;
  publicKey: string;
  alg: 'ed25519';
}

/** The fields of a result that a receipt covers, beside the receipt's own. */
export type ReceiptSubject = Pick<ReportResult, 'reportId' | 'status' | 'reason' | 'credited'>;

/** A service key's id, derived as a rig id is (docs/protocol.md, Identity). */
export const serviceKeyId = (publicKey: string): string => rigIdFromPublicKey(publicKey);

/**
 * The canonical leaf text: one `name: value` line per covered field, in this order, LF-joined,
 * UTF-8. `usd` is written as JSON writes the number. Throws nothing.
 */
export function receiptLeafText(
  r: ReceiptSubject,
  c: Pick<Receipt, 'keyId' | 'contentHash' | 'programs' | 'programsSha256'>,
): string {
  // One template, not an array joined: the service builds one per result on its hot path.
  return (
    `sonm-rewards-receipt/${RECEIPT_VERSION}\nkey-id: ${c.keyId}\nreport-id: ${r.reportId}\n` +
    `content-hash: ${c.contentHash}\nstatus: ${r.status}\nreason: ${r.reason ?? ''}\n` +
    `connected: ${r.credited.connected}\ngpus: ${r.credited.gpus}\n` +
    `usd: ${JSON.stringify(r.credited.usd)}\nprograms: ${c.programs}\nprograms-sha256: ${c.programsSha256}`
  );
}

/** The signed tree head: what the one signature of a response covers. */
export function treeHeadText(h: {
  keyId: string;
  issuedAt: string;
  treeSize: number;
  rootHash: string;
}): string {
  return [
    `sonm-rewards-receipts/${RECEIPT_VERSION}`,
    `key-id: ${h.keyId}`,
    `issued-at: ${h.issuedAt}`,
    `tree-size: ${h.treeSize}`,
    `root-hash: ${h.rootHash}`,
  ].join('\n');
}

const NODE = Buffer.from([1]);
/**
 * RFC 9162 §2.1.1: leaf hash SHA-256(0x00 || leaf), node hash SHA-256(0x01 || left || right).
 * (U+0000 is the byte 0x00 in UTF-8: the leaf is hashed as one string, without copying.)
 */
export const leafHash = (text: string): Buffer => hash('sha256', `\u0000${text}`, 'buffer');
const nodeHash = (l: Buffer, r: Buffer): Buffer =>
  hash('sha256', Buffer.concat([NODE, l, r]), 'buffer');

/** The largest power of two smaller than n (n ≥ 2), RFC 9162's split point k. */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * The Merkle tree hash of `leaves` (leaf hashes) and every leaf's inclusion proof, per RFC 9162
 * §2.1.1 and §2.1.3.1, in one pass: O(n log n) hashes. Throws on an empty list.
 */
export function merkleTree(leaves: Buffer[]): { root: Buffer; proofs: Buffer[][] } {
  if (leaves.length === 0) throw new Error('a Merkle tree needs at least one leaf');
  const proofs: Buffer[][] = leaves.map(() => []);
  const mth = (lo: number, hi: number): Buffer => {
    if (hi - lo === 1) return leaves[lo]!;
    const k = split(hi - lo);
    const left = mth(lo, lo + k);
    const right = mth(lo + k, hi);
    for (let i = lo; i < lo + k; i++) proofs[i]!.push(right);
    for (let i = lo + k; i < hi; i++) proofs[i]!.push(left);
    return nodeHash(left, right);
  };
  return { root: mth(0, leaves.length), proofs };
}

/** RFC 9162 §2.1.3.2: the root that `proof` leads to from leaf `index` of a tree of `size`, or null. */
export function rootFromInclusionProof(
  leaf: Buffer,
  index: number,
  size: number,
  proof: Buffer[],
): Buffer | null {
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size)
    return null;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0)
        while (fn % 2 === 0 && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
    } else r = nodeHash(r, p);
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 ? r : null;
}

/**
 * What a POST /v1/reports answer carries once, beside its results: the signed tree head of the
 * Merkle tree over its results, and what the leaves share.
 */
export interface ReceiptHead {
  v: 1;
  keyId: string;
  issuedAt: string;
  treeSize: number;
  /** The RFC 9162 tree hash over the results' leaves, base64url. */
  rootHash: string;
  programs: string;
  programsSha256: string;
  /** Ed25519 over treeHeadText, base64url. */
  signature: string;
}

type Covered = Pick<Receipt, 'keyId' | 'contentHash' | 'programs' | 'programsSha256'>;
const leavesOf = (
  results: ReceiptSubject[],
  contentHashes: string[],
  c: Omit<Covered, 'contentHash'>,
): Buffer[] =>
  results.map((r, i) => leafHash(receiptLeafText(r, { ...c, contentHash: contentHashes[i]! })));

/** The tree hash alone (RFC 9162 §2.1.1): what the service needs, without building proofs. */
function merkleRoot(leaves: Buffer[]): Buffer {
  const mth = (lo: number, hi: number): Buffer => {
    if (hi - lo === 1) return leaves[lo]!;
    const k = split(hi - lo);
    return nodeHash(mth(lo, lo + k), mth(lo + k, hi));
  };
  return mth(0, leaves.length);
}

/**
 * The service's side: sign one response's results (`contentHashes[i]` is the SHA-256 of result
 * i's report text) with one Ed25519 signature. Throws if the lengths differ or there are none.
 */
export function signTreeHead(
  results: ReceiptSubject[],
  contentHashes: string[],
  key: { privateKey: KeyObject; keyId: string },
  programs: { ids: string; sha256: string },
  issuedAt: string,
): ReceiptHead {
  if (results.length !== contentHashes.length || results.length === 0)
    throw new Error('one content hash per result, and at least one result, are needed');
  const shared = { keyId: key.keyId, programs: programs.ids, programsSha256: programs.sha256 };
  const rootHash = merkleRoot(leavesOf(results, contentHashes, shared)).toString('base64url');
  const head = { keyId: key.keyId, issuedAt, treeSize: results.length, rootHash };
  const signature = sign(null, Buffer.from(treeHeadText(head), 'utf8'), key.privateKey).toString(
    'base64url',
  );
  return {
    v: RECEIPT_VERSION,
    ...head,
    programs: programs.ids,
    programsSha256: programs.sha256,
    signature,
  };
}

/**
 * The receiver's side: one self-contained receipt per result, with its inclusion proof, from
 * the answer's head and the content hashes of the reports as the receiver holds them. Returns
 * null when the results do not lead to the head's root (the answer is not the one signed);
 * the signature itself is checked by checkReceipt.
 */
export function receiptsFromHead(
  results: ReceiptSubject[],
  contentHashes: string[],
  head: ReceiptHead,
): Receipt[] | null {
  if (
    results.length === 0 ||
    results.length !== contentHashes.length ||
    head.treeSize !== results.length
  )
    return null;
  const { root, proofs } = merkleTree(leavesOf(results, contentHashes, head));
  if (root.toString('base64url') !== head.rootHash) return null;
  return results.map((_, i) => ({
    v: 1,
    keyId: head.keyId,
    contentHash: contentHashes[i]!,
    programs: head.programs,
    programsSha256: head.programsSha256,
    issuedAt: head.issuedAt,
    treeSize: head.treeSize,
    leafIndex: i,
    inclusionProof: proofs[i]!.map((p) => p.toString('base64url')),
    signature: head.signature,
  }));
}

/** Why a receipt does not hold, as a code (decides behaviour) and a sentence (for people). */
export type ReceiptProblem =
  | { code: 'unsigned'; detail: string }
  | { code: 'other-key'; detail: string; keyId: string }
  | { code: 'bad-signature'; detail: string }
  | { code: 'content-mismatch'; detail: string };

/** Decode base64url only in its canonical form: a changed padding bit must not pass unnoticed. */
function strictB64url(s: unknown): Buffer | null {
  if (typeof s !== 'string') return null;
  const b = Buffer.from(s, 'base64url');
  return b.toString('base64url') === s ? b : null;
}

/** Tree heads already verified, by signature: a response's receipts share one. */
const verifiedHeads = new Set<string>();

/**
 * Check `receipt` for result `r` against the pinned `key`; `contentHash` is the hash of the
 * report as the rig holds it (null when the report is no longer held). Returns null when the
 * receipt holds, else the problem. Pure apart from a cache of verified heads; throws nothing.
 */
export function checkReceipt(
  r: ReceiptSubject,
  receipt: unknown,
  key: ServiceKey,
  contentHash: string | null,
): ReceiptProblem | null {
  const rc = receipt as Partial<Receipt> | null | undefined;
  if (!rc || typeof rc !== 'object' || typeof rc.signature !== 'string')
    return { code: 'unsigned', detail: `the answer for ${r.reportId} carries no receipt` };
  if (rc.keyId !== key.keyId)
    return {
      code: 'other-key',
      keyId: String(rc.keyId),
      detail:
        `the receipt for ${r.reportId} is signed by key ${String(rc.keyId)}, ` +
        `not the pinned service key ${key.keyId}`,
    };
  if (contentHash !== null && rc.contentHash !== contentHash)
    return {
      code: 'content-mismatch',
      detail:
        `the receipt for ${r.reportId} covers other report content ` +
        `(hash ${String(rc.contentHash)}, ours ${contentHash})`,
    };
  const bad = {
    code: 'bad-signature' as const,
    detail: `the receipt for ${r.reportId} does not verify against service key ${key.keyId}`,
  };
  if (
    rc.v !== RECEIPT_VERSION ||
    typeof rc.contentHash !== 'string' ||
    typeof rc.programs !== 'string' ||
    typeof rc.programsSha256 !== 'string' ||
    typeof rc.issuedAt !== 'string' ||
    !Array.isArray(rc.inclusionProof) ||
    typeof rc.treeSize !== 'number' ||
    typeof rc.leafIndex !== 'number'
  )
    return bad;
  if (typeof r.credited !== 'object' || r.credited === null) return bad;
  const proof = rc.inclusionProof.map(strictB64url);
  const sig = strictB64url(rc.signature);
  if (!sig || proof.some((p) => p === null || p.length !== 32)) return bad;
  const leaf = leafHash(
    receiptLeafText(r, {
      keyId: rc.keyId,
      contentHash: rc.contentHash,
      programs: rc.programs,
      programsSha256: rc.programsSha256,
    }),
  );
  const root = rootFromInclusionProof(leaf, rc.leafIndex, rc.treeSize, proof as Buffer[]);
  if (!root) return bad;
  const head = treeHeadText({
    keyId: rc.keyId,
    issuedAt: rc.issuedAt,
    treeSize: rc.treeSize,
    rootHash: root.toString('base64url'),
  });
  const memo = `${key.publicKey}|${rc.signature}|${head}`;
  if (verifiedHeads.has(memo)) return null;
  let ok = false;
  try {
    ok = verify(null, Buffer.from(head, 'utf8'), publicKeyFromRaw(key.publicKey), sig);
  } catch {
    ok = false;
  }
  if (!ok) return bad;
  if (verifiedHeads.size > 10_000) verifiedHeads.clear();
  verifiedHeads.add(memo);
  return null;
}
