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
