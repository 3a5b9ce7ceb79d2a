// A simulated rig for the demo and the benchmark: fake nvidia-smi, sonmcli, dpkg-query,
// systemctl and sudo (sh scripts fed from test/fixtures), optionally as slow as the real tools.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
const fixtures = join(ROOT, 'test', 'fixtures');

/** Write the fake tools into `dir`; `delays` in seconds per tool (nvidia, sonmcli, dpkg). */
export function fakeTools(dir, delays = {}, opts = {}) {
  mkdirSync(dir, { recursive: true });
  const tool = (name, body) => { writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`); chmodSync(join(dir, name), 0o755); };
  const d = (k) => (delays[k] ? `sleep ${delays[k]}; ` : '');
  const status = opts.workerStatusFile ?? `${fixtures}/sonmcli/worker-status-connected.json`;
  tool('nvidia-smi', `${d('nvidia')}cat '${opts.nvidiaFile ?? `${fixtures}/nvidia-smi/six-2080ti.csv`}'`);
  tool('dpkg-query', `${d('dpkg')}cat '${fixtures}/dpkg/all-0.4.25.txt'`);
  tool('sonmcli', `${d('sonmcli')}case "$*" in\n*worker\\ status*) cat '${status}';;\n*ask-plan\\ list*) cat '${fixtures}/sonmcli/askplans-spot.json';;\n*deal\\ status*) cat '${fixtures}/sonmcli/deal-spot.json';;\n*) cat '${fixtures}/sonmcli/version.json';;\nesac`);
  tool('systemctl', 'echo active');
  tool('dmidecode', 'exit 1');
  tool('lscpu', 'exit 1');
  tool('sudo', 'while [ $# -gt 0 ]; do case "$1" in -n|-H) shift;; -u) shift 2;; --) shift; break;; *) break;; esac; done\nexec "$@"');
  return dir;
}

/** The environment a simulated rig's sonm-rewards runs with. */
export function agentEnv(tools, stateDir, extra = {}) {
  return {
    PATH: `${tools}:/usr/local/bin:/usr/bin:/bin`,
    HOME: stateDir,
    SUDO_USER: 'rig',
    SONM_REWARDS_STATE_DIR: stateDir,
    SONM_REWARDS_CONFIG: join(stateDir, 'no-config.json'),
    SONM_REWARDS_SONM_CONFIG_DIR: join(stateDir, 'etc-sonm'),
    ...extra,
  };
}
