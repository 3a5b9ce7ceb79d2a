/**
 * Fleet configuration: `sonm-rewards configure` and the configuration file. Bad input gets one
 * line and exit 2, and changes nothing. Runs on the packaged runtime too (see agentArgv()).
 */
import { describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeRig, runCli } from '../helpers/rig.js';

const asRoot = process.getuid?.() === 0;
const NOBODY = 65534;

describe('sonm-rewards configure', () => {
  it.skipIf(!asRoot)(
    'as root: writes service and rig user into the file, keeping other keys; status then has no next step',
    async () => {
      const rig = makeRig();
      const config = rig.env.SONM_REWARDS_CONFIG!;
      writeFileSync(config, '{"textfileDir": "/var/lib/node_exporter"}\n');
      mkdirSync(join(rig.sysroot, 'etc'), { recursive: true });
      writeFileSync(
        join(rig.sysroot, 'etc/passwd'),
        'root:x:0:0:root:/root:/bin/bash\nrig:x:1000:1000::/home/rig:/bin/bash\n',
      );
      const r = await runCli(rig, [
        'configure',
        '--service',
        'https://rewards.example.org/',
        '--rig-user',
        'rig',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(
        `Wrote ${config}: textfileDir /var/lib/node_exporter, service https://rewards.example.org, rigUser rig.`,
      );
      expect(JSON.parse(readFileSync(config, 'utf8'))).toEqual({
        textfileDir: '/var/lib/node_exporter',
        service: 'https://rewards.example.org',
        rigUser: 'rig',
      });
      const status = await runCli(rig, ['status']);
      expect(status.stdout).not.toContain('Next:');
    },
  );

  it('status says what to do next while no service is configured', async () => {
    const r = await runCli(makeRig(), ['status']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'Next: no rewards service is configured: hours are recorded but not delivered; run `sudo ' +
        'sonm-rewards configure --service https://…`',
    );
  });

  const bad: Array<[string, string[], string]> = [
    [
      'a non-https service',
      ['configure', '--service', 'http://rewards.example.org'],
      'sonm-rewards: --service: plain HTTP is only allowed to loopback addresses; use https:// for rewards.example.org',
    ],
    [
      'an unknown rig user',
      ['configure', '--rig-user', 'no-such-user-x'],
      'sonm-rewards: --rig-user: no user "no-such-user-x" in /etc/passwd; give the user that owns ~/.sonm/cli.yaml',
    ],
    [
      'nothing to set',
      ['configure'],
      'sonm-rewards: nothing to configure: give --service URL and/or --rig-user USER',
    ],
  ];
  it.skipIf(!asRoot).each(bad)(
    '%s: one line, exit 2, the file unchanged',
    async (_name, args, line) => {
      const rig = makeRig();
      writeFileSync(rig.env.SONM_REWARDS_CONFIG!, '{"service": "https://old.example.org"}\n');
      const r = await runCli(rig, args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe(line);
      expect(readFileSync(rig.env.SONM_REWARDS_CONFIG!, 'utf8')).toBe(
        '{"service": "https://old.example.org"}\n',
      );
    },
  );

  it.skipIf(!asRoot)(
    'without root: one line, exit 2 (needs root to run as another user)',
    async () => {
      const rig = makeRig({}, { anyUser: true });
      chmodSync(rig.dir, 0o755);
      writeFileSync(rig.env.SONM_REWARDS_CONFIG!, '{}\n', { mode: 0o644 });
      const r = await runCli(rig, ['configure', '--service', 'https://rewards.example.org'], {
        uid: NOBODY,
        gid: NOBODY,
      });
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe(
        `sonm-rewards: configuring the agent writes ${rig.env.SONM_REWARDS_CONFIG} and needs root: ` +
          'run `sudo sonm-rewards configure …`',
      );
    },
  );
});

describe('the configuration file', () => {
  it.each([
    [
      'an unknown key',
      '{"servce": "https://rewards.example.org"}',
      /^sonm-rewards: the configuration \S+ has unknown key\(s\) servce; known keys: service, /,
    ],
    [
      'a plain-HTTP service',
      '{"service": "http://rewards.example.org"}',
      new RegExp(
        String.raw`^sonm-rewards: "service" in \S+: plain HTTP is only allowed to loopback addresses; ` +
          String.raw`use https:\/\/ for rewards.example.org$`,
      ),
    ],
    [
      'not JSON',
      '{"service": ',
      /^sonm-rewards: the configuration \S+ is not valid JSON \(.*\): fix or remove it$/,
    ],
  ])('%s: one line, exit 2', async (_name, text, line) => {
    const rig = makeRig();
    writeFileSync(rig.env.SONM_REWARDS_CONFIG!, text);
    const r = await runCli(rig, ['check', '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(line);
  });

  it('http to loopback is allowed', async () => {
    const rig = makeRig();
    writeFileSync(join(rig.env.SONM_REWARDS_CONFIG!), '{"service": "http://127.0.0.1:9"}');
    const r = await runCli(rig, ['status', '--json']);
    expect(r.code, r.stderr).toBe(0);
  });
});
