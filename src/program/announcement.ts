/**
 * The announcement's facts, spelled once. SONM's announcement (the seed text; see
 * docs/decisions.md "Upgrade") asks every member to install "Sonm OS (0.4.25)" with
 *
 *   sudo service sonm-optimus stop && sonmcli worker ask-plan purge &&
 *   sudo bash -c "$(curl -s <INSTALLER_URL>)" -s MASTER_ADDRESS
 *
 * `upgrade` (src/upgrade), its command and the service's default platform document take these
 * from here. A program's own data (programs/default.json, minSonmVersion) stays with the program.
 * src/probe may not import program/, so the probe keeps its own list of the packages it reads.
 */

/**
 * The SONM core release the announcement names; every component shares it (docs/decisions.md,
 * "Upgrade", One version for all of SONM; see also sonm-platform.md).
 */
export const ANNOUNCED_SONM_VERSION = '0.4.25';

/** Where the announcement fetches SONM's autodeploy script from. */
export const ANNOUNCED_INSTALLER_URL =
  'https://raw.githubusercontent.com/sonm-io/autodeploy/master/sonm-auto-deploy-supplier.sh';

/** The Debian packages SONM's script installs (core `debian/control`; the script's apt-get line). */
export const SONM_PACKAGES = ['sonm-worker', 'sonm-node', 'sonm-cli', 'sonm-optimus'] as const;

/** The systemd units that must be active after the upgrade (core `debian/*.service`). */
export const SONM_SERVICES = ['sonm-worker', 'sonm-node', 'sonm-optimus'] as const;

export type SonmService = (typeof SONM_SERVICES)[number];

/**
 * `bash -c TEXT -s MASTER`: the announcement's `-s` becomes the script's `$0`, the master its `$1`.
 * The script treats any non-empty `$2` as "use development packages", so nothing follows.
 */
export const ANNOUNCED_SCRIPT_ARGV0 = '-s';
