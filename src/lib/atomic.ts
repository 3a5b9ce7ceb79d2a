/**
 * Every file the agent writes goes through here. The agent runs as root, and some directories it
 * writes to may belong to someone else (node_exporter's textfile directory often belongs to a
 * service user), so no write ever follows a link or reuses a name another user could predict:
 *
 * - writeFileAtomic: a temporary file with an unpredictable name (/dev/urandom), created with
 *   O_CREAT|O_EXCL|O_NOFOLLOW, written, fsynced, then renamed over the target (rename replaces a
 *   planted link, it never writes through it), then the directory is fsynced. A crash leaves the
 *   old or the new content, never a mix.
 * - createFileExclusive: the same, but linked into place with link(2), so a file that already
 *   exists is never replaced (the rig key: made exactly once, even by two processes at once).
 * - appendDurable: append and fsync, for journals in the private (0700) state directory.
 * - ensurePrivateDir: the state directory, mode 0700, whichever command makes it first.
 * - unsafeDirReason: why a directory is not safe for root to write in (docs/decisions.md,
 *   "Files written as root").
 * Written here rather than taken from write-file-atomic: that package follows links and names its
 * temporary file from a counter and the pid, which is the fault this module exists to close.
 */
import {
  closeSync,
  constants,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  chmodSync,
} from 'node:fs';
import { dirname, basename, join } from 'node:path';

const { O_CREAT, O_EXCL, O_NOFOLLOW, O_WRONLY, O_APPEND } = constants;

/** fsync a directory, so a rename or unlink in it is durable. File systems that refuse are ignored. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** 12 random bytes from the kernel as base64url: a name nobody can guess in advance. */
export function randomName(): string {
  const fd = openSync('/dev/urandom', 'r');
  try {
    const buf = Buffer.alloc(12);
    readSync(fd, buf, 0, buf.length, null);
    return buf.toString('base64url');
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, data: string | Uint8Array): void {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

/**
 * Write `data` to a fresh temporary file beside `path` (unpredictable name, O_EXCL|O_NOFOLLOW,
 * `mode`), fsynced unless `durable` is false. Returns the temporary path; the caller renames or
 * links it into place. Throws the fs error (EEXIST only after 5 collisions, which means someone
 * is guessing names).
 */
function writeTemp(path: string, data: string | Uint8Array, mode: number, durable = true): string {
  for (let attempt = 0; ; attempt++) {
    const tmp = join(dirname(path), `.${basename(path)}.${randomName()}.tmp`);
    let fd: number;
    try {
      fd = openSync(tmp, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY, mode);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 5) continue;
      throw e;
    }
    try {
      writeAll(fd, data);
      if (durable) fsyncSync(fd);
      closeSync(fd);
      return tmp;
    } catch (e) {
      closeSync(fd);
      try {
        unlinkSync(tmp);
      } catch {
        /* already gone */
      }
      throw e;
    }
  }
}

/**
 * Replace `path` with `data` atomically and durably, safe in a directory others can write.
 * `mode` is the new file's permission bits (default 0644). Creates missing parent directories
 * (0700). Throws the fs error; on failure the old content is untouched and no temporary remains.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = writeTemp(path, data, mode);
  try {
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw e;
  }
  fsyncDir(dir);
}

/**
 * Create `path` with `data` only if nothing exists there, atomically (link(2) of a complete
 * temporary file). Returns true when this call created it, false when a file (or link) was
 * already there, in which case nothing is changed. Throws other fs errors.
 * `durable` (default true) fsyncs the file and its directory: a key must survive a power cut.
 * A lock file passes false: it means something only while its process lives, and a lock left
 * by a crash is judged stale by its holder's pid and start time (src/lib/lock.ts), so two
 * fsyncs per tick would buy nothing.
 */
export function createFileExclusive(
  path: string,
  data: string | Uint8Array,
  mode = 0o600,
  durable = true,
): boolean {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = writeTemp(path, data, mode, durable);
  try {
    linkSync(tmp, path);
    if (durable) fsyncDir(dir);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
  }
}

/**
 * Append `data` to `path` (created 0644 if missing) and fsync it. Only for journals inside the
 * 0700 state directory, where nobody but its owner can place a link (the tests place one to
 * /dev/full to fill the disk); anything written elsewhere goes through writeFileAtomic.
 */
export function appendDurable(path: string, data: string): void {
  const fd = openSync(path, O_CREAT | O_APPEND | O_WRONLY, 0o644);
  try {
    writeAll(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Make the state directory (and its parents) if missing, mode 0700 for the directory itself,
 * whichever command runs first; an existing directory owned by this user is narrowed to 0700.
 * Throws the fs error (EACCES, EROFS …) for the caller to report.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const uid = process.getuid?.();
  if (st.isDirectory() && (st.mode & 0o077) !== 0 && (uid === undefined || st.uid === uid)) {
    try {
      chmodSync(dir, 0o700);
    } catch {
      /* read-only file system: it stays as it is */
    }
  }
}

/**
 * Why root must not write in `dir`, or null when it may: the directory (links followed) must
 * belong to root, and if its group or others may write in it, it must be sticky (as /tmp is):
 * a group member or another user could otherwise swap names in it between two system calls.
 * Only applies when this process is root; another user writes only where it already could.
 * Throws the fs error when the directory cannot be examined (ENOENT …).
 */
export function unsafeDirReason(dir: string, euid = process.geteuid?.() ?? -1): string | null {
  if (euid !== 0) return null;
  const st = statSync(dir);
  if (!st.isDirectory()) return `${dir} is not a directory`;
  const octal = (st.mode & 0o7777).toString(8).padStart(4, '0');
  if (st.uid !== 0) return `${dir} belongs to uid ${st.uid}, not root (mode ${octal})`;
  if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0)
    return `${dir} can be written by users other than root and is not sticky (mode ${octal})`;
  return null;
}
