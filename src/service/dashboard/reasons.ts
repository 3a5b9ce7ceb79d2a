/** Why an hour was not paid, in words, for the dashboard (the codes are src/service/credit.ts's). */
export const OUTCOME_TEXT: Record<string, string> = {
  credited: 'credited',
  held: 'held for review',
  disputed: 'disputed',
  'not-connected': 'not connected in 80% of the hour (10 of 12 samples)',
  'outside-window': 'outside the program window',
  'no-qualifying-gpus': 'no qualifying GPU counted',
  'admission-suspended': 'admission of new rigs suspended',
  'not-eligible': 'the rig reported it does not qualify',
  'not-credited': 'not credited',
  'before-enrolment': 'before the rig enrolled',
  revoked: 'the operator revoked the rig',
  'no-verdict': 'no eligibility check on file for the hour',
  'held-for-review': 'held until the operator reviews the rig',
  'master-rig-cap': "over the master's rig limit",
  'not-in-verdict': "a GPU not listed in the rig's own check",
  'claimed-by-another-rig': 'its GPUs were paid to another rig for the hour',
};

/** The words for an outcome code; unknown codes are shown as they are. */
export const outcomeText = (code: string): string => OUTCOME_TEXT[code] ?? code;

/**
 * A verdict's failing checks in words, "gpus (gpu-lost), network (link-speed-unknown)": the
 * check ids and reason codes of `check --json` (docs/check-result.schema.json), as the rig
 * sent them. Empty when none failed or the agent sent none.
 */
export function failingText(failing: readonly (readonly [string, string])[]): string {
  return failing.map(([id, code]) => (code === 'fail' ? id : `${id} (${code})`)).join(', ');
}

/** "not eligible", with the failing checks when known, else the programs it does not qualify for. */
export function notEligibleText(v: {
  notQualifying: string[];
  failing: [string, string][];
}): string {
  if (v.failing.length) return `not eligible: failing ${failingText(v.failing)}`;
  return `not eligible${v.notQualifying.length ? ` for ${v.notQualifying.join(', ')}` : ''}`;
}
