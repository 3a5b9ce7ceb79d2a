/** Start-up and environment errors of the service's binary, shared by the service and the operator command. */
import { readFileSync } from 'node:fs';

/** A problem with the command line or its files: exit 2 for the service, with one line. */
export class StartError extends Error {}

/** Read a JSON file given on the command line (`what` names the option); throws StartError. */
export function readJson(path: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new StartError(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}
