import { describe, expect, it } from 'vitest';
import { NonceCache } from '../../src/service/auth.js';
import { NONCE_TTL_SECONDS } from '../../src/protocol/types.js';

describe('nonce replay cache', () => {
  it.each([
    ['the same nonce at once', 'n1', 1000, false],
    ['the same nonce at the end of its TTL', 'n1', 1000 + NONCE_TTL_SECONDS, false],
    ['the same nonce after its TTL', 'n1', 1001 + NONCE_TTL_SECONDS, true],
    ['another nonce', 'n2', 1000, true],
  ])('%s: accepted %s', (_what, nonce, at, accepted) => {
    const c = new NonceCache();
    expect(c.add('n1', 1000)).toBe(true);
    expect(c.add(nonce, at)).toBe(accepted);
  });

  it('drops expired nonces as time passes, keeping the live ones', () => {
    const c = new NonceCache();
    for (let i = 0; i < 50_000; i++) c.add(`old-${i}`, 1000);
    for (let i = 0; i < 10; i++) c.add(`new-${i}`, 1200);
    expect(c.size).toBe(50_010);
    expect(c.add('later', 1001 + NONCE_TTL_SECONDS)).toBe(true);
    expect(c.size).toBe(11);
    expect(c.add('new-3', 1001 + NONCE_TTL_SECONDS)).toBe(false);
  });

  it('a nonce used again after expiry moves to the back, so the sweep still stops at the first live one', () => {
    const c = new NonceCache();
    c.add('a', 1000);
    c.add('b', 1100);
    expect(c.add('a', 1001 + NONCE_TTL_SECONDS)).toBe(true);
    expect(c.add('b', 1001 + NONCE_TTL_SECONDS)).toBe(false);
    expect(c.add('c', 1101 + NONCE_TTL_SECONDS)).toBe(true);
    expect(c.add('a', 1101 + NONCE_TTL_SECONDS)).toBe(false);
    expect(c.size).toBe(2);
  });
});
