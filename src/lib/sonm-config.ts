/** Reading SONM's own configuration: the master address in /etc/sonm/worker-default.yaml. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The `master:` value of worker-default.yaml (a YAML scalar, quoted or not), or null. */
export function parseWorkerMaster(yaml: string): string | null {
  const m = /^\s*master:\s*["']?(0x[0-9a-fA-F]{40})["']?\s*(#.*)?$/m.exec(yaml);
  return m ? m[1]! : null;
}

/**
 * The master address configured in `<sonmConfigDir>/worker-default.yaml` (SONM's worker
 * configuration, /etc/sonm by default). Returns the address (null when the file has no valid
 * `master:`), the file's path, and whether it could be read. Never throws: a missing or
 * unreadable file is `exists: false`.
 */
export function readConfiguredMaster(sonmConfigDir: string): {
  master: string | null;
  path: string;
  exists: boolean;
} {
  const path = join(sonmConfigDir, 'worker-default.yaml');
  try {
    return { master: parseWorkerMaster(readFileSync(path, 'utf8')), path, exists: true };
  } catch {
    return { master: null, path, exists: false };
  }
}
