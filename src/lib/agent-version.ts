/** The agent's version, from package.json (read once, without loading anything else). */
import { readFileSync } from 'node:fs';

/** The `version` of this package's package.json, such as "0.1.0". Throws at load if it is unreadable. */
export const AGENT_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
