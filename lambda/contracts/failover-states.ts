/**
 * The failover state machine's state names, as far as code outside lib/failover/ relies on them:
 * every state is named `<step>: <what>` (the steps function's recorded durations group by the
 * step), and the drill finds two states by name in the execution history.
 */

/** The separator between a state's step and the rest of its name. */
const STEP_SEPARATOR = ':';

/** A state's name from its step and what it does. */
export function stateName(step: string, what: string): string {
  return `${step}${STEP_SEPARATOR} ${what}`;
}

/** The step a state belongs to: its name up to the separator (the whole name when there is none, as `Done`). */
export function stepOf(name: string): string {
  const at = name.indexOf(STEP_SEPARATOR);
  return at < 0 ? name : name.slice(0, at).trim();
}

/** States the drill reads from the history: the journal replay (its result counts reconciled orders) and the validation. */
export const FAILOVER_STATES = {
  replayJournal: stateName('Reconcile', 'replay journal'),
  validate: stateName('Validate', 'region serves'),
} as const;
