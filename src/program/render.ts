/** The human view of a check: one line per rule, the GPU table, the verdict and the estimate. */
import type { CheckResult } from './result.js';
import type { Paint } from '../lib/paint.js';
import { table } from '../lib/format.js';
import { plural } from '../lib/time.js';

const MARK = { pass: '✔', fail: '✖', warn: '!', skip: '–' } as const;

function day(iso: string): string {
  return iso.slice(0, 10);
}

/**
 * The human view of a CheckResult (README, "`sonm-rewards check`", shows it): one line per rule
 * with its mark, plus message and remedy on a failure or warning; the GPU table (lost cards in
 * red); ask plans; the verdict; the estimate in USD; the program's phase and admission; other
 * programs on "Also:" lines. Colour only through `paint`; ends in '\n'. Pure; throws nothing.
 */
export function renderCheck(r: CheckResult, paint: Paint): string {
  const out: string[] = [];
  out.push(paint.bold(`${r.program.name} (${r.program.id})`), '');
  const rows = r.checks.map((c) => {
    const mark =
      c.status === 'pass'
        ? paint.green(MARK.pass)
        : c.status === 'fail'
          ? paint.red(MARK.fail)
          : c.status === 'warn'
            ? paint.yellow(MARK.warn)
            : paint.dim(MARK.skip);
    return [` ${mark}`, c.id, c.actual ?? c.message, paint.dim(`needs ${c.required}`)];
  });
  const lines = table(rows).split('\n');
  r.checks.forEach((c, i) => {
    out.push(lines[i]!);
    if (c.status === 'fail' || c.status === 'warn') {
      if (c.actual && c.message && !c.actual.includes(c.message)) out.push(`      ${c.message}`);
      if (c.remedy) out.push(`      ${paint.bold('→')} ${c.remedy}`);
    }
  });
  if (r.gpus.length > 0 || r.lostGpus.length > 0) {
    out.push('', paint.bold('GPUs'));
    const g = [['  #', 'model', 'PCI id', 'bus id', 'memory', 'qualifies']];
    for (const x of r.gpus)
      g.push([
        `  ${x.index}`,
        x.model ?? x.name,
        x.pciDeviceId ?? '?',
        x.busId ?? '?',
        x.memoryMiB === null ? '?' : `${x.memoryMiB} MiB`,
        x.qualifying ? paint.green('yes') : 'no',
      ]);
    for (const l of r.lostGpus)
      g.push(['  ?', paint.red('lost'), '?', l.busId ?? '?', '?', paint.red(l.reason)]);
    out.push(table(g));
  }
  if (r.sonm.askPlans && r.sonm.askPlans.length > 0) {
    out.push('', paint.bold('Ask plans'));
    for (const a of r.sonm.askPlans) {
      const deal = r.sonm.deals?.find((d) => d.id === a.dealId);
      const kind = deal
        ? deal.spot
          ? 'spot deal open'
          : `forward deal open until ${deal.endTime ?? '?'}`
        : a.durationSeconds > 0
          ? 'forward plan'
          : 'spot plan';
      out.push(`  ${a.id}  ${kind}${a.dealId ? ` (deal ${a.dealId})` : ''}`);
    }
  }
  out.push('');
  const failed = r.checks.filter((c) => c.status === 'fail').length;
  const warned = r.checks.filter((c) => c.status === 'warn').length;
  const qualifies = failed === 0;
  if (r.eligible)
    out.push(
      `${paint.green(paint.bold('Eligible'))} for ${r.program.name}${warned ? ` (${plural(warned, 'warning')})` : ''}.`,
    );
  else if (qualifies)
    out.push(
      `${paint.yellow(paint.bold('Meets the requirements'))}, but the program is not active now.`,
    );
  else
    out.push(`${paint.red(paint.bold('Not eligible'))}: ${plural(failed, 'requirement')} not met.`);
  const rw = r.reward;
  if (rw.creditedGpus > 0) {
    const est =
      `${plural(rw.creditedGpus, 'qualifying GPU')} × $${rw.usdPerGpuDay}/day ≈ ` +
      `$${rw.usdPerDay}/day, about $${rw.usdPerMonth} a month`;
    const when = r.eligible ? '' : ' once the failures above are fixed and the program is active';
    out.push(`Estimate: ${est}${when}, for every hour the worker is connected.`);
  } else out.push('Estimate: $0/day: no qualifying GPU.');
  const w = r.program.window;
  const phase = {
    'not-started': `starts ${w.start}`,
    guaranteed: `active, guaranteed until ${day(w.guaranteedUntil)}, may run until ${day(w.end)}`,
    extended: `active (extended), may run until ${day(w.end)}`,
    ended: `ended ${day(w.end)}`,
  }[w.phase];
  out.push(`Program: ${phase}.`);
  if (r.program.admission === 'suspended')
    out.push(
      'Admission of new suppliers is suspended: rigs already in the program keep earning; a new rig cannot join now.',
    );
  if (r.program.admission === 'review')
    out.push(
      'New rigs are reviewed: hours are recorded and paid once an operator approves the rig.',
    );
  const others = r.programs.filter((p) => p.id !== r.program.id);
  for (const p of others)
    out.push(
      `Also: ${p.name}: ${p.eligible ? 'eligible' : p.qualifies ? 'qualifies, not active' : 'not eligible'}.`,
    );
  return `${out.join('\n')}\n`;
}
