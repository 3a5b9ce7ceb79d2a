// Types of fake-tools.mjs (the fake rig tools shared by tests, demo and bench).

export declare const ROOT: string;

export interface FakeCase {
  /** sh `case` glob over "$*", e.g. "worker status*". Default "*". */
  match?: string;
  stdout?: string;
  stderr?: string;
  exit?: number;
  /** Seconds to sleep before answering (fractions allowed). */
  delay?: number;
  /** Never answer (sleeps for an hour). */
  hang?: boolean;
  /** Extra sh run before printing (has $FAKE_DIR). */
  sh?: string;
}

export interface FakeCall {
  tool: string;
  args: string[];
  sudoUser: string;
  asUser: string;
  cwd: string;
}

export declare class FakeTools {
  readonly dir: string;
  readonly bin: string;
  constructor(root: string);
  tool(name: string, cases: FakeCase[] | FakeCase): this;
  passthrough(name: string, prefix: string[]): this;
  sudo(opts?: { nonInteractiveOk?: boolean }): this;
  calls(): FakeCall[];
  callsOf(tool: string): FakeCall[];
  path(): string;
}

export declare const HEALTHY_SONMCLI: FakeCase[];

export interface RigToolsSpec {
  nvidia?: FakeCase | FakeCase[];
  dpkg?: FakeCase | FakeCase[];
  /** A dpkg status database file: the real dpkg-query answers from it (instead of `dpkg`). */
  dpkgStatus?: string;
  sonmcli?: FakeCase[];
  systemctl?: FakeCase[];
  service?: FakeCase[];
  sudoOk?: boolean;
  /** Seconds each answer of these tools waits, as the real tools do. */
  delays?: { nvidia?: number; sonmcli?: number; dpkg?: number };
}

export declare function rigTools(root: string, spec?: RigToolsSpec): FakeTools;

export declare function agentEnv(
  tools: FakeTools,
  stateDir: string,
  extra?: Record<string, string>,
): Record<string, string>;
