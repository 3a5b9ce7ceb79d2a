import { describe, expect, it } from 'vitest';
import { checkAddress, toChecksumAddress } from '../../src/lib/eth.js';
import { parseWorkerMaster } from '../../src/lib/sonm-config.js';

// The test vectors of EIP-55 itself.
const VECTORS = [
  '0x52908400098527886E0F7030069857D2E4169EE7',
  '0x8617E340B3D01FA5F11F306F4090FD50E238070D',
  '0xde709f2102306220921060314715629080e2fb77',
  '0x27b1fdb04752bbc536007a920d24acb045561c26',
  '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
  '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
  '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
  '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
];

function flipOneLetter(a: string): string {
  const i = [...a].findIndex(
    (c, k) =>
      k > 1 &&
      /[a-fA-F]/.test(c) &&
      a.slice(2) !== a.slice(2).toLowerCase() &&
      a.slice(2) !== a.slice(2).toUpperCase(),
  );
  const c = a[i]!;
  return (
    a.slice(0, i) + (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) + a.slice(i + 1)
  );
}

describe('EIP-55', () => {
  it.each(VECTORS)('%s is valid and checksums to itself', (a) => {
    expect(checkAddress(a)).toEqual({ ok: true, address: toChecksumAddress(a) });
    if (a.slice(2) !== a.slice(2).toLowerCase() && a.slice(2) !== a.slice(2).toUpperCase())
      expect(toChecksumAddress(a)).toBe(a);
  });
  it.each(VECTORS.slice(4))("%s with one letter's case flipped fails the checksum", (a) => {
    const r = checkAddress(flipOneLetter(a));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/fails its EIP-55 checksum/);
  });
  it.each([
    ['0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'],
    ['0X5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed'],
  ])('all-lower or all-upper %s is accepted and checksummed', (a, want) =>
    expect(checkAddress(a)).toEqual({ ok: true, address: want }),
  );
  it.each([
    ['5aaeb6053f3e94c9b9a09f33669435e7ef1beaed', /does not start with 0x/],
    ['0x5aaeb6', /has 6 hex digits after 0x; an address has 40/],
    ['0xzzaeb6053f3e94c9b9a09f33669435e7ef1beaed', /not hex digits/],
    ['MASTER_ADDRESS', /does not start with 0x/],
  ])('%s is refused', (a, why) => {
    const r = checkAddress(a);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(why);
  });
});

describe('worker-default.yaml', () => {
  it.each([
    [
      'master: 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\n',
      '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
    ],
    [
      'endpoint: ":15010"\n' +
        'master: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # set by autodeploy\n' +
        'admin: 0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359\n',
      '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
    ],
    ['admin: 0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359\n', null],
    ['', null],
  ])('%j', (yaml, master) => expect(parseWorkerMaster(yaml)).toBe(master));
});
