/** An evacuation switch's position and where it lives: shared by the constructs (lib/routing/evacuation-switch.ts, lib/routing/switch-keeper.ts) and the handlers (lambda/shared/switches.ts, which reads and sets it). */

export const SwitchPosition = { thrown: 'thrown', released: 'released' } as const;
export type SwitchPosition = (typeof SwitchPosition)[keyof typeof SwitchPosition];

/** Where one switch lives and how it is published. */
export interface SwitchRef {
  /** The region the switch takes out of DNS when thrown. */
  readonly evacuatedRegion: string;
  /** The region holding its parameter, metric and alarm (never the evacuated one). */
  readonly hostRegion: string;
  /** The SSM parameter (in the host region) holding the position. */
  readonly parameterName: string;
  /** CloudWatch namespace and metric name; the one dimension is `Region` = the evacuated region. */
  readonly namespace: string;
  readonly metricName: string;
}
