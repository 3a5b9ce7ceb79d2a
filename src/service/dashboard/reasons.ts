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
};

/** The words for an outcome code; unknown codes are shown as they are. */
export const outcomeText = (code: string): string => OUTCOME_TEXT[code] ?? code;
