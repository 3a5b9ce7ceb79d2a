/** The agent's version, from package.json (read once, without loading anything else). */
import { readFileSync } from 'node:fs';

export const AGENT_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
