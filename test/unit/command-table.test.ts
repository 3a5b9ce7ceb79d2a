import { describe, expect, it } from 'vitest';
import { COMMANDS, GLOBAL_OPTIONS } from '../../src/commands/table.js';
import { isPlainTick, TICK_FLAGS } from '../../src/cli/plain-tick.js';

describe('the timer fast path: isPlainTick', () => {
  it.each([
    [['report'], true],
    [['report', '--verbose'], true],
    [['--json', 'report', '--no-color'], true],
    [[], false],
    [['report', 'report'], false],
    [['report', '--state-dir', '/tmp/x'], false],
    [['report', '--help'], false],
    [['status'], false],
    [['report', '--color'], false],
  ])('%j → %s', (argv, plain) => {
    expect(isPlainTick(argv)).toBe(plain);
  });

  it('accepts only flags the table declares as boolean global options', () => {
    const booleans = Object.entries(GLOBAL_OPTIONS).flatMap(([key, o]) => {
      const flag = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
      if (o.type === 'boolean') return [`--${flag}`];
      return o.type === 'negated' ? [`--no-${flag}`] : [];
    });
    expect(booleans).toEqual(expect.arrayContaining([...TICK_FLAGS]));
  });
});

describe('the command table', () => {
  it('names each command once, and report takes no options (the tick parses none)', () => {
    const names = COMMANDS.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    expect(COMMANDS.find((c) => c.name === 'report')?.options).toEqual({});
  });

  it('loads a runner for every entry', async () => {
    for (const c of COMMANDS) expect(typeof (await c.load())).toBe('function');
  });

  it('declares no option twice between a command and the global options', () => {
    for (const c of COMMANDS) {
      const shared = Object.keys(c.options).filter((k) => k in GLOBAL_OPTIONS);
      expect(shared, c.name).toEqual([]);
    }
  });
});
