/**
 * Ethereum addresses and the EIP-55 mixed-case checksum. Keccak-256 comes from @noble/hashes:
 * Node's 'sha3-256' is the NIST SHA-3, a different function.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';

export type AddressCheck = { ok: true; address: string } | { ok: false; reason: string };

/**
 * The EIP-55 mixed-case form of an address (`0x` + 40 hex digits, any case): a digit is
 * upper-cased where the Keccak-256 of the lower-case hex has a nibble ≥ 8. The input is not
 * validated (checkAddress does that); never throws.
 */
export function toChecksumAddress(address: string): string {
  const hex = address.replace(/^0x/i, '').toLowerCase();
  const hash = Buffer.from(keccak_256(Buffer.from(hex, 'ascii'))).toString('hex');
  let out = '0x';
  for (let i = 0; i < hex.length; i++) {
    const c = hex[i]!;
    out += parseInt(hash[i]!, 16) >= 8 ? c.toUpperCase() : c;
  }
  return out;
}

/**
 * Validate an Ethereum address typed by a user: `0x` + 40 hex digits; all-lower or all-upper
 * case is accepted as is, mixed case must carry a valid EIP-55 checksum. Returns the checksummed
 * address, or a one-line reason that names the input. Never throws.
 */
export function checkAddress(input: string): AddressCheck {
  const s = input.trim();
  if (!/^0x/i.test(s)) return { ok: false, reason: `"${s}" does not start with 0x` };
  const hex = s.slice(2);
  if (hex.length !== 40)
    return { ok: false, reason: `"${s}" has ${hex.length} hex digits after 0x; an address has 40` };
  if (!/^[0-9a-fA-F]{40}$/.test(hex))
    return { ok: false, reason: `"${s}" contains characters that are not hex digits` };
  const checksummed = toChecksumAddress(s);
  const isLower = hex === hex.toLowerCase();
  const isUpper = hex === hex.toUpperCase();
  if (!isLower && !isUpper && `0x${hex}` !== checksummed) {
    return {
      ok: false,
      reason:
        `"${s}" fails its EIP-55 checksum (a typo?); ` +
        `the checksummed form of these digits would be ${checksummed}`,
    };
  }
  return { ok: true, address: checksummed };
}

/**
 * Whether two addresses name the same account (case-insensitive: EIP-55 case is only a
 * checksum). Inputs are not validated.
 */
export function sameAddress(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
