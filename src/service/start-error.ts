/** Start-up and environment errors of the service's binary, shared by the service and the operator command. */
import { JsonFileError, readJsonFile } from '../lib/json-file.js';

/** A problem with the command line or its files: exit 2 for the service, with one line. */
export class StartError extends Error {}

/** Read a JSON file given on the command line (`what` names the option); throws StartError. */
export function readJson(path: string, what: string): unknown {
  try {
    return readJsonFile(path, what);
  } catch (e) {
    throw e instanceof JsonFileError ? new StartError(e.message) : e;
  }
}
