/**
 * What a child process printed and how it ended: the one collector behind the tests' runners
 * (runBin, the package tests' sh, the race and link-planting tests). Never rejects: a spawn
 * error is added to stderr, and a child still running at the deadline gets SIGKILL.
 */
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';

export interface Collected {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Collect `child`'s output until it closes, killing it after `timeoutMs` ms. */
export function collect(
  child: ChildProcessByStdio<null, Readable, Readable>,
  timeoutMs: number,
): Promise<Collected> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', (e) => {
      stderr += String(e);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
