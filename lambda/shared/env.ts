import type { CONTROL_VARIABLES } from '../contracts/common';
import type { Environment } from '../contracts/environment';

/** Where a handler finds the journal and the control table, and which region it runs in. */
export interface ControlSettings {
  readonly journalTable: string;
  readonly controlTable: string;
  readonly region: string;
  readonly primaryRegion: string;
}

/** The settings from an environment read through a contract with CONTROL_VARIABLES (lambda/contracts/common.ts). */
export function controlSettings(environment: Environment<typeof CONTROL_VARIABLES>): ControlSettings {
  return {
    journalTable: environment.JOURNAL_TABLE,
    controlTable: environment.CONTROL_TABLE,
    region: environment.AWS_REGION,
    primaryRegion: environment.PRIMARY_REGION,
  };
}
