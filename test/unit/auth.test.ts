import { describe, expect, it } from 'vitest';
import { NonceCache } from '../../src/service/auth.js';
import { NONCE_TTL_SECONDS } from '../../src/protocol/types.js';

describe('nonce replay cache', () => {
  it.each([
    ['the same nonce at once', 'n1', 1000, 'replay'],
    ['the same nonce at the end of its TTL', 'n1', 1000 + NONCE_TTL_SECONDS, 'replay'],
    ['the same nonce after its TTL', 'n1', 1001 + NONCE_TTL_SECONDS, 'ok'],
    ['another nonce', 'n2', 1000, 'ok'],
  ])('%s: %s', (_what, nonce, at, answer) => {
    const c = new NonceCache();
    expect(c.add('n1', 1000)).toBe('ok');
    expect(c.add(nonce, at)).toBe(answer);
  });

  it('holds at most its limit: a new nonce beyond it is refused, never an old one forgotten early', () => {
    const c = new NonceCache(3);
    for (const n of ['a', 'b', 'c']) expect(c.add(n, 1000)).toBe('ok');
    expect(c.add('d', 1000)).toBe('full');
    expect(c.add('a', 1000)).toBe('replay');
    expect(c.size).toBe(3);
    expect(c.add('d', 1001 + NONCE_TTL_SECONDS)).toBe('ok');
  });

  it('drops expired nonces as time passes, keeping the live ones', () => {
    const c = new NonceCache();
    for (let i = 0; i < 50_000; i++) c.add(`old-${i}`, 1000);
    for (let i = 0; i < 10; i++) c.add(`new-${i}`, 1200);
    expect(c.size).toBe(50_010);
    expect(c.add('later', 1001 + NONCE_TTL_SECONDS)).toBe('ok');
    expect(c.size).toBe(11);
    expect(c.add('new-3', 1001 + NONCE_TTL_SECONDS)).toBe('replay');
  });

  it('a nonce used again after expiry moves to the back, so the sweep still stops at the first live one', () => {
    const c = new NonceCache();
    c.add('a', 1000);
    c.add('b', 1100);
    expect(c.add('a', 1001 + NONCE_TTL_SECONDS)).toBe('ok');
    expect(c.add('b', 1001 + NONCE_TTL_SECONDS)).toBe('replay');
    expect(c.add('c', 1101 + NONCE_TTL_SECONDS)).toBe('ok');
    expect(c.add('a', 1101 + NONCE_TTL_SECONDS)).toBe('replay');
    expect(c.size).toBe(2);
  });
});
