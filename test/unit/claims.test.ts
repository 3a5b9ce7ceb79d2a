import { describe, expect, it } from 'vitest';
import { ClaimIndex } from '../../src/service/claims.js';

const H = '2026-06-01T10:00:00Z';
const H2 = '2026-06-01T11:00:00Z';
const NEXT_DAY = '2026-06-02T10:00:00Z';

describe('GPU claim index', () => {
  it.each([
    ['the claimed hour', 'G1', H, 'rigA'],
    ['another hour of the same day', 'G1', H2, null],
    ['the same hour on the next day', 'G1', NEXT_DAY, null],
    ['another uuid', 'G2', H, null],
  ])('owner of %s', (_what, uuid, hour, owner) => {
    const idx = new ClaimIndex();
    idx.claim('G1', H, 'rigA');
    expect(idx.owner(uuid, hour)).toBe(owner);
  });

  it('keeps each hour of a day apart, for several rigs on one uuid', () => {
    const idx = new ClaimIndex();
    idx.claim('G1', '2026-06-01T00:00:00Z', 'rigA');
    idx.claim('G1', '2026-06-01T23:00:00Z', 'rigA');
    idx.claim('G1', '2026-06-01T05:00:00Z', 'rigB');
    expect(['00', '05', '23', '06'].map((h) => idx.owner('G1', `2026-06-01T${h}:00:00Z`))).toEqual([
      'rigA',
      'rigB',
      'rigA',
      null,
    ]);
  });

  it('a layer sees the claims below it; its own join the index only when committed', () => {
    const idx = new ClaimIndex();
    idx.claim('G1', H, 'rigA');
    const group = idx.child();
    const batch = group.child();
    batch.claim('G2', H, 'rigB');
    expect(batch.owner('G1', H)).toBe('rigA');
    expect(batch.owner('G2', H)).toBe('rigB');
    expect(group.owner('G2', H)).toBeNull();
    batch.commit();
    expect(group.owner('G2', H)).toBe('rigB');
    expect(idx.owner('G2', H)).toBeNull();
    group.commit();
    expect(idx.owner('G2', H)).toBe('rigB');
  });

  it('a layer dropped without commit (a rolled-back batch) leaves nothing behind', () => {
    const idx = new ClaimIndex();
    const group = idx.child();
    const failed = group.child();
    failed.claim('G1', H, 'rigA');
    const next = group.child();
    expect(next.owner('G1', H)).toBeNull();
    group.commit();
    expect(idx.owner('G1', H)).toBeNull();
  });

  it("hoursOf gathers one rig's hours of a day from every layer: the row to store", () => {
    const idx = new ClaimIndex();
    idx.load('G1', '2026-06-01', 'rigA', 1 << 3);
    idx.claim('G1', '2026-06-01T05:00:00Z', 'rigB');
    const layer = idx.child();
    layer.claim('G1', H, 'rigA');
    expect(layer.hoursOf('G1', '2026-06-01', 'rigA')).toBe((1 << 3) | (1 << 10));
    expect(layer.hoursOf('G1', '2026-06-01', 'rigB')).toBe(1 << 5);
    expect(idx.hoursOf('G1', '2026-06-01', 'rigA')).toBe(1 << 3);
  });

  it('loads stored rows and forgets days before the cut-off', () => {
    const idx = new ClaimIndex();
    idx.load('G1', '2026-06-01', 'rigA', 1 << 10);
    idx.load('G2', '2026-06-01', 'rigA', 1 << 10);
    idx.load('G3', '2026-06-02', 'rigB', 1 << 10);
    expect(idx.size).toBe(3);
    idx.prune('2026-06-02');
    expect(idx.owner('G1', H)).toBeNull();
    expect(idx.owner('G3', NEXT_DAY)).toBe('rigB');
    expect(idx.size).toBe(1);
  });
});

describe('GPU claim index: days out of order', () => {
  it('a day that arrives late is found, and does not hide the later days', () => {
    const idx = new ClaimIndex();
    idx.claim('G1', '2026-06-03T01:00:00Z', 'rigA');
    idx.claim('G1', '2026-06-01T01:00:00Z', 'rigA');
    idx.claim('G1', '2026-06-02T01:00:00Z', 'rigB');
    idx.claim('G1', '2026-06-02T02:00:00Z', 'rigB');
    idx.claim('G1', '2026-05-30T01:00:00Z', 'rigC');
    expect(
      ['2026-05-30', '2026-06-01', '2026-06-02', '2026-06-03', '2026-06-04'].map((d) =>
        idx.owner('G1', `${d}T01:00:00Z`),
      ),
    ).toEqual(['rigC', 'rigA', 'rigB', 'rigA', null]);
    expect(idx.hoursOf('G1', '2026-06-02', 'rigB')).toBe((1 << 1) | (1 << 2));
    expect(idx.size).toBe(4);
    const layer = idx.child();
    layer.claim('G1', '2026-05-31T05:00:00Z', 'rigD');
    layer.commit();
    expect(idx.owner('G1', '2026-05-31T05:00:00Z')).toBe('rigD');
    expect(idx.owner('G1', '2026-06-03T01:00:00Z')).toBe('rigA');
  });
});

describe('taking claims back and disputes, layered like the transactions', () => {
  const H = '2026-06-01T10:00:00Z';
  it('a claim taken back in a batch layer is gone only once the layer commits, and its row is rewritten', () => {
    const index = new ClaimIndex();
    index.load('U', '2026-06-01', 'A', 1 << 10);
    const batch = index.child();
    batch.unclaim('U', H, 'A');
    batch.claim('U', H, 'B');
    expect([batch.owner('U', H), index.owner('U', H)]).toEqual(['B', 'A']);
    expect([...batch.changed()].sort()).toEqual(
      [
        ['U', '2026-06-01', 'A'],
        ['U', '2026-06-01', 'B'],
      ].sort(),
    );
    expect([batch.hoursOf('U', '2026-06-01', 'A'), batch.hoursOf('U', '2026-06-01', 'B')]).toEqual([
      0,
      1 << 10,
    ]);
    batch.commit();
    expect(index.owner('U', H)).toBe('B');
    expect(index.hoursOf('U', '2026-06-01', 'A')).toBe(0);
  });

  it('a rolled-back layer (never committed) leaves the claim and no dispute behind', () => {
    const index = new ClaimIndex();
    index.load('U', '2026-06-01', 'A', 1 << 10);
    const batch = index.child();
    batch.unclaim('U', H, 'A');
    batch.markDisputed('U', H);
    expect([batch.owner('U', H), batch.isDisputed('U', H)]).toEqual([null, true]);
    expect([index.owner('U', H), index.isDisputed('U', H)]).toEqual(['A', false]);
  });

  it('a dispute marked in a batch reaches the index through its group, and can be cleared', () => {
    const index = new ClaimIndex();
    const group = index.child();
    const batch = group.child();
    batch.markDisputed('U', H);
    batch.commit();
    group.commit();
    expect(index.isDisputed('U', H)).toBe(true);
    index.clearDisputed('U', H);
    expect(index.isDisputed('U', H)).toBe(false);
  });

  it('paidBefore: an earlier hour that day or an earlier day counts, the hour itself does not', () => {
    const index = new ClaimIndex();
    index.load('U', '2026-06-01', 'A', 1 << 10);
    index.load('V', '2026-05-31', 'A', 1 << 23);
    expect(index.paidBefore('U', H, 'A')).toBe(false);
    expect(index.paidBefore('U', '2026-06-01T11:00:00Z', 'A')).toBe(true);
    expect(index.paidBefore('V', '2026-06-01T00:00:00Z', 'A')).toBe(true);
    expect(index.paidBefore('U', '2026-06-01T11:00:00Z', 'B')).toBe(false);
  });
});
