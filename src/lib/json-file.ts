/**
 * Read a JSON file with one clear line when it cannot be used: which file, in which role, and
 * whether it is missing, unreadable or not JSON. Callers choose the exit code (a bad
 * --programs file is a usage error; a bad cache is ignored) from `problem`, never from the text.
 */
import { readFileSync } from 'node:fs';

/** Why a JSON file could not be used. */
export type JsonFileProblem = 'missing' | 'unreadable' | 'not-json';

/** A JSON file that could not be read or parsed; `message` is one line naming the file. */
export class JsonFileError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly problem: JsonFileProblem,
  ) {
    super(message);
  }
}

/**
 * Read and parse the JSON file at `path` (UTF-8). `what` names the file's role in messages,
 * such as "--programs" or "the configuration" (default "the file").
 * Returns the parsed value, unchecked: the caller validates its shape.
 * Throws JsonFileError: `missing` (ENOENT), `unreadable` (any other read error, with its errno
 * code) or `not-json` (with JSON.parse's reason).
 */
export function readJsonFile(path: string, what = 'the file'): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'missing' : 'unreadable';
    throw new JsonFileError(
      `cannot read ${what} ${path}: ${code ?? (e as Error).message}`,
      path,
      problem,
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new JsonFileError(
      `${what} ${path} is not valid JSON (${(e as Error).message})`,
      path,
      'not-json',
    );
  }
}

/**
 * Like readJsonFile, for a file that may be absent or damaged without harm (a cache, a
 * journal): returns the parsed value, or undefined when the file is missing, unreadable or
 * not JSON. Never throws.
 */
export function readJsonFileOrUndefined(path: string): unknown {
  try {
    return readJsonFile(path);
  } catch {
    return undefined;
  }
}
