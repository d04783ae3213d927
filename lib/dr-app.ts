import { App, IPolicyValidationContext, PolicyValidationPluginReport, Stage, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AppConfig, RegionRole } from './config';
import { regionCode } from './naming';
import { DrStage } from '../stages/dr-stage';

/** The two regional stages of one deployment, primary first (the order they deploy in). */
export interface DrDeployment {
  readonly primary: DrStage;
  readonly secondary: DrStage;
}

/** Construct id of a stage: readable in `cdk ls` and unique per environment and region. */
export function stageId(config: AppConfig, role: RegionRole): string {
  const region = role === RegionRole.PRIMARY ? config.primaryRegion : config.secondaryRegion;
  return `Dr-${config.environmentSuffix}-${regionCode(region)}`;
}

/**
 * The cdk-nag AwsSolutions pack, checking one stage. A plugin registered on the App is never given
 * the stacks inside a Stage (its report stays empty), so each stage registers its own; and since
 * cdk-nag's own entry point walks the whole app from the root, this one walks only its stage, so
 * each stack is checked once.
 */
export class StageAwsSolutionsChecks extends AwsSolutionsChecks {
  constructor(private readonly stage: Stage) {
    super(stage, { writeSuppressionsToCloudFormation: true });
  }

  public override validate(_context: IPolicyValidationContext): PolicyValidationPluginReport {
    return this.validateScope(this.stage);
  }
}

/** Registers the cdk-nag AwsSolutions pack on every stage of the app. */
export function addComplianceChecks(app: App): void {
  for (const child of app.node.children) {
    if (Stage.isStage(child)) {
      Validations.of(child).addPlugins(new StageAwsSolutionsChecks(child));
    }
  }
}

/** Adds both regional stages to `app` for direct deployment (`cdk deploy --all`). */
export function addDrStages(app: App, config: AppConfig): DrDeployment {
  const primary = new DrStage(app, stageId(config, RegionRole.PRIMARY), { config, role: RegionRole.PRIMARY });
  const secondary = new DrStage(app, stageId(config, RegionRole.SECONDARY), { config, role: RegionRole.SECONDARY });
  return { primary, secondary };
}
