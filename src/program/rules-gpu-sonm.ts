/**
 * The GPU and SONM rules of the table in ./rules.ts: cards (count, models, lost cards, infoROM
 * warnings, a slow nvidia-smi), the installed SONM version (installed packages only) and the
 * worker's connection. Decisions: docs/decisions.md, "check".
 */
import type { LostGpu } from '../probe/types.js';
import { NVIDIA_SLOW_MS } from '../probe/nvidia.js';
import { compareVersions, formatVersion, parseVersion } from '../lib/version.js';
import {
  fail,
  pass,
  plural,
  skip,
  unmeasured,
  warn,
  type Outcome,
  type RuleInput,
} from './outcome.js';

/** dpkg states that mean an interrupted install or removal (dpkg(1), "Package states"). */
const BROKEN_STATES = new Set(['half-installed', 'unpacked', 'half-configured', 'reinst-required']);
const STATE_WORDS: Record<string, string> = {
  'config-files': 'removed, config files left',
  'not-installed': 'not installed',
};

const lostText = (l: LostGpu): string => `GPU ${l.busId ?? '(no bus id)'}: ${l.reason}`;
const busIds = (l: LostGpu[]): string => l.map((x) => x.busId ?? '?').join(', ');

/** Cards: at most maxGpus in the rig, at least minGpus qualifying; lost cards, warnings, speed. */
export function gpusRule({ probe, program, gpus }: RuleInput): Outcome {
  const r = program.requirements;
  if (!probe.nvidia.ok)
    return fail(probe.nvidia.code ?? 'nvidia-smi-failed', {
      actual: null,
      value: null,
      message: probe.nvidia.error,
    });
  const nv = probe.nvidia.value;
  const qualifying = gpus.filter((g) => g.qualifying).length;
  const total = gpus.length + nv.lost.length;
  const byModel = new Map<string, number>();
  for (const g of gpus) byModel.set(g.model ?? g.name, (byModel.get(g.model ?? g.name) ?? 0) + 1);
  const summary = [...byModel].map(([m, n]) => `${m} ×${n}`).join(', ') || 'none';
  const lostNote = nv.lost.length ? `, ${nv.lost.length} lost` : '';
  const m = {
    actual: `${qualifying} qualifying of ${total} (${summary}${lostNote})`,
    value: qualifying,
  };
  const lost = { message: nv.lost.map(lostText).join('; '), subject: busIds(nv.lost) };
  if (total > r.maxGpus)
    return fail('too-many-gpus', {
      ...m,
      message: `${total} GPUs in the rig: at most ${r.maxGpus} are allowed`,
    });
  if (qualifying < r.minGpus && nv.lost.length > 0) return fail('gpu-lost', { ...m, ...lost });
  if (qualifying < r.minGpus) {
    return fail('no-qualifying-gpu', {
      ...m,
      message: total === 0 ? 'no NVIDIA GPU found' : `no qualifying GPU: ${summary}`,
    });
  }
  if (nv.lost.length > 0) return warn('gpu-lost', { ...m, ...lost });
  const notices = nv.notices ?? [];
  if (notices.length > 0) {
    const subject = notices.map((n) => n.busId).join(', ');
    return warn('inforom-corrupted', {
      ...m,
      message: notices.map((n) => n.text).join('; '),
      subject,
    });
  }
  if ((nv.answerMs ?? 0) >= NVIDIA_SLOW_MS) {
    const s = ((nv.answerMs ?? 0) / 1000).toFixed(1);
    return warn('nvidia-smi-slow', {
      ...m,
      message: `${plural(qualifying, 'qualifying GPU')}; nvidia-smi took ${s} s to answer`,
    });
  }
  return pass({ ...m, message: plural(qualifying, 'qualifying GPU') });
}

/** SONM: every installed component at the program's version or newer; broken packages fail. */
export function sonmVersionRule({ probe, program }: RuleInput): Outcome {
  const want = program.requirements.minSonmVersion;
  if (!probe.sonmVersions.ok)
    return fail('sonm-not-installed', {
      actual: null,
      value: null,
      message: probe.sonmVersions.error,
    });
  const v = probe.sonmVersions.value;
  const parts = Object.entries(v.packages)
    .map(([p, ver]) => `${p} ${ver}`)
    .join(', ');
  const others = Object.entries(v.notInstalled ?? {});
  const broken = others.filter(([, state]) => BROKEN_STATES.has(state));
  const otherText = others.map(([p, state]) => `${p} ${STATE_WORDS[state] ?? state}`).join(', ');
  const detail = [parts, otherText && `not installed: ${otherText}`].filter(Boolean).join('; ');
  if (broken.length > 0) {
    const names = broken.map(([p]) => p).join(' ');
    const message = `${broken.map(([p, s]) => `${p} is ${s}`).join(', ')}: an installation was interrupted`;
    return fail('sonm-package-broken', { actual: detail, value: null, message, subject: names });
  }
  const lowest = parseVersion(v.lowest);
  if (!lowest) {
    if (!parts)
      return fail('sonm-not-installed', {
        actual: detail || 'not installed',
        value: null,
        message: 'SONM is not installed',
      });
    return fail('sonm-version-unreadable', {
      actual: detail,
      value: null,
      message: `SONM version unreadable: ${parts}`,
    });
  }
  const version = formatVersion(lowest);
  const m = { actual: `${version} (${detail})`, value: version };
  if (compareVersions(lowest, parseVersion(want)!) < 0)
    return fail('sonm-outdated', {
      ...m,
      message: `SONM ${version} is installed`,
    });
  return pass({ ...m, message: `SONM ${version}` });
}

/** The worker: connected under the program's rule, else a warn with the first failing part. */
export function sonmWorkerRule({ probe }: RuleInput): Outcome {
  if (!probe.worker.ok) return unmeasured(probe.worker)!;
  const w = probe.worker.value;
  if (w.connected) {
    return pass({
      actual: `connected (${w.status?.ethAddr ?? 'worker'}, master confirmed)`,
      value: 'connected',
      message: 'worker connected',
    });
  }
  const code = w.notConnectedCode ?? 'status-failed';
  if (code === 'not-installed')
    return skip('sonm-not-installed', {
      actual: 'not installed',
      value: null,
      message: 'no SONM worker on this machine',
    });
  const reason = w.notConnectedReason ?? 'unknown reason';
  return warn(code, {
    actual: `not connected: ${reason}`,
    value: 'not-connected',
    message: `worker not connected: ${reason}`,
  });
}
