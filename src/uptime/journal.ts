/**
 * Append-only record logs with a checksum per line: "<crc32 hex> <json>\n", appended and fsynced.
 * A torn last line (a crash mid-write) fails its checksum and is skipped, never fatal; before the
 * next append the torn tail is cut off, so it can never glue itself to a good record.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
} from 'node:fs';
import { appendDurable, writeFileAtomic } from '../lib/atomic.js';

/** The CRC-32 lookup table (the reflected IEEE polynomial 0xedb88320), built once. */
const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();
/**
 * CRC-32 (IEEE, as zlib's crc32) of `text`'s UTF-8 bytes, as an unsigned 32-bit number; in JS so
 * a tick need not load zlib. The line checksum of this file's header (README, "Uptime",
 * `report`: "checksummed and fsynced"). Pure; throws nothing.
 */
export function crc32(text: string): number {
  const bytes = Buffer.from(text, 'utf8');
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

/**
 * One journal line for `value`: "<crc32 as 8 hex digits> <JSON>\n" (this file's header). Throws
 * TypeError when JSON.stringify does (a BigInt, a cycle) or gives no text (undefined, a function).
 */
export function encodeRecord(value: unknown): string {
  const json = JSON.stringify(value);
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

/**
 * The value of one journal line (without its newline), or null when the line is malformed, its
 * checksum does not match (a torn or corrupt write) or its JSON does not parse. The value is not
 * checked to be a T. Pure; throws nothing.
 */
export function decodeLine<T>(line: string): T | null {
  const sp = line.indexOf(' ');
  if (sp !== 8) return null;
  const json = line.slice(9);
  if (crc32(json).toString(16).padStart(8, '0') !== line.slice(0, 8)) return null;
  try {
    return JSON.parse(json) as T;
  } catch {
    return null;
  }
}

export interface ReadResult<T> {
  records: T[];
  skipped: number;
}

/**
 * The records of a journal's text in order, and how many lines were skipped: corrupt lines and a
 * torn tail after the last newline (this file's header). Empty lines are ignored. Pure; throws
 * nothing.
 */
export function parseRecords<T>(text: string): ReadResult<T> {
  const records: T[] = [];
  let skipped = 0;
  const lines = text.split('\n');
  const last = lines.pop(); // text after the final newline: a torn write, or ''
  if (last) skipped++;
  for (const line of lines) {
    if (!line) continue;
    const r = decodeLine<T>(line);
    if (r === null) skipped++;
    else records.push(r);
  }
  return { records, skipped };
}

/**
 * parseRecords over the file at `path`; no records when it does not exist. Throws the fs error
 * when it exists but cannot be read.
 */
export function readRecords<T>(path: string): ReadResult<T> {
  if (!existsSync(path)) return { records: [], skipped: 0 };
  return parseRecords<T>(readFileSync(path, 'utf8'));
}

/**
 * Cut a torn tail (bytes after the last newline, looked for in the last MiB) so the next record
 * starts on a fresh line; nothing when the file is missing. Throws the fs errors of opening,
 * reading or truncating it.
 */
export function repairTail(path: string): void {
  if (!existsSync(path)) return;
  const fd = openSync(path, 'r+');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return;
    const tail = Buffer.alloc(Math.min(size, 1 << 20));
    readSync(fd, tail, 0, tail.length, size - tail.length);
    if (tail[tail.length - 1] === 0x0a) return;
    const nl = tail.lastIndexOf(0x0a);
    ftruncateSync(
      fd,
      nl < 0 ? (size > tail.length ? size - tail.length : 0) : size - tail.length + nl + 1,
    );
  } finally {
    closeSync(fd);
  }
}

/**
 * Append `values` to the journal at `path` as lines, fsynced (appendDurable), after cutting a torn
 * tail (repairTail); nothing for an empty list. Throws the fs errors of opening, truncating or
 * writing, and encodeRecord's TypeError.
 */
export function appendRecords(path: string, values: unknown[]): void {
  if (values.length === 0) return;
  repairTail(path);
  appendDurable(path, values.map(encodeRecord).join(''));
}

/**
 * Replace a log's content with `values` atomically (compaction; writeFileAtomic). Throws its fs
 * errors, and encodeRecord's TypeError.
 */
export function rewriteRecords(path: string, values: unknown[]): void {
  writeFileAtomic(path, values.map(encodeRecord).join(''));
}
