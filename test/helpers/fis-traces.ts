import { Naming, ParameterKey, Purpose } from '../../lib/core/naming';
import { FIS_EXEC_WRAPPER } from '../../lib/failover/fault-injection';

/** Whatever the FIS pieces leave in a template: the resource type, the layer parameter, the variables, the bucket and the parameter. */
export function fisTraces(template: Record<string, unknown>, suffixNaming: Naming): string[] {
  const text = JSON.stringify(template);
  const markers = [
    'AWS::FIS::',
    'lambda-extension/AWS-FIS-extension',
    'AWS_FIS_',
    FIS_EXEC_WRAPPER,
    suffixNaming.name('bucket', Purpose.faultInjection),
    ParameterKey.faultInjectionTemplateId,
  ];
  return markers.filter((marker) => text.includes(marker));
}
