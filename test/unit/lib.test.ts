import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { JsonFileError, readJsonFile, readJsonFileOrUndefined } from '../../src/lib/json-file.js';
import { DAY_MS, HOUR_MS, plural } from '../../src/lib/time.js';

describe('readJsonFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sr-json-'));
  writeFileSync(join(dir, 'ok.json'), '{"a": 1}');
  writeFileSync(join(dir, 'bad.json'), '{"a": ');
  mkdirSync(join(dir, 'a-directory.json'));

  it.each([
    ['missing.json', 'missing', /^cannot read --programs .*missing\.json: ENOENT$/],
    ['a-directory.json', 'unreadable', /^cannot read --programs .*a-directory\.json: EISDIR$/],
    ['bad.json', 'not-json', /^--programs .*bad\.json is not valid JSON \(.+\)$/],
  ])('%s: %s, one line naming the file', (name, problem, message) => {
    const path = join(dir, name);
    let thrown: unknown;
    try {
      readJsonFile(path, '--programs');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(JsonFileError);
    expect(thrown).toMatchObject({ problem, path });
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).not.toContain('\n');
    expect(readJsonFileOrUndefined(path)).toBeUndefined();
  });

  it('returns the parsed value', () => {
    expect(readJsonFile(join(dir, 'ok.json'))).toEqual({ a: 1 });
    expect(readJsonFileOrUndefined(join(dir, 'ok.json'))).toEqual({ a: 1 });
  });
});

describe('time units and plural', () => {
  it('hour and day in ms', () => {
    expect(HOUR_MS).toBe(60 * 60 * 1000);
    expect(DAY_MS).toBe(24 * 60 * 60 * 1000);
  });
  it.each([
    [0, 'GPU', undefined, '0 GPUs'],
    [1, 'GPU', undefined, '1 GPU'],
    [2, 'qualifying GPU', undefined, '2 qualifying GPUs'],
    [1, 'entry', 'entries', '1 entry'],
    [3, 'entry', 'entries', '3 entries'],
  ])('plural(%s, %s, %s) = %s', (n, one, many, phrase) => {
    expect(plural(n, one, many)).toBe(phrase);
  });
});
