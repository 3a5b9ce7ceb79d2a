/**
 * What `upgrade` prints, pure: the plan before it runs (every command as an argument list, the
 * script's hash), a refusal, and the outcome. The hash of a downloaded script is shown on every
 * path where a script could have run (docs/decisions.md "Upgrade").
 */
import type { Paint } from '../lib/paint.js';
import { table } from '../lib/format.js';
import type { ScriptSummary, UpgradePlan } from './plan.js';
import type { ApplyOutcome } from './apply.js';

type Go = Extract<UpgradePlan, { kind: 'go' }>;
type Refusal = Extract<UpgradePlan, { kind: 'refuse' }>;

/** "script: URL" and "N bytes, sha256 H (…)", indented by `indent` spaces. */
export function scriptLines(s: ScriptSummary, indent: number, state: string): string[] {
  const pad = ' '.repeat(indent);
  return [
    `${pad}script: ${s.url}`,
    `${pad}        ${s.bytes} bytes, sha256 ${s.sha256} (${state})`,
  ];
}

function pinState(s: ScriptSummary): string {
  return s.pinnedBy.length ? `pinned by ${s.pinnedBy.join(' and ')}, matches` : 'not pinned';
}

/** The refusal as one message: the reason, each item, and "Nothing was changed." */
export function refusalMessage(p: Refusal): string {
  if (p.items.length === 0) return `${p.reason}. Nothing was changed.`;
  return `${p.reason}:\n${p.items.map((i) => `  - ${i}`).join('\n')}\nNothing was changed.`;
}

/** The plan, before anything runs: target, notes, the script and every step's argument list. */
export function planHeader(p: Go, master: string): string[] {
  const steps = p.steps.map((s, i) => {
    const what =
      s.id === 'verify'
        ? 'installed versions, services active, worker answering with this master'
        : JSON.stringify([s.command, ...s.args]);
    return `    ${i + 1}. ${s.title}: ${what}`;
  });
  return [
    `Upgrade to SONM ${p.target.version} (target from ${p.target.source}), master ${master}`,
    ...p.notes.map((n) => `  ${n}`),
    ...scriptLines(p.script, 2, `${pinState(p.script)}; saved as ${p.script.path}`),
    '  steps:',
    ...steps,
  ];
}

/** After the steps: the table, warnings, what is still pending, the log's path. */
export function outcomeLines(o: ApplyOutcome, logPath: string, paint: Paint): string[] {
  const rows = o.steps.map((s) => [s.title, s.result, `${(s.ms / 1000).toFixed(1)} s`]);
  return [
    '',
    table([['step', 'result', 'duration'], ...rows]),
    ...o.warnings.map((w) => `${paint.yellow('!')} ${w}`),
    ...(o.verification?.pending ?? []).map((p) => `${paint.yellow('…')} still pending: ${p}`),
    `Log: ${logPath}`,
  ];
}
