import { defineEnvironment, FunctionContract } from './environment';

/** The schema migration (a custom resource; its input comes as resource properties): lib/data/schema-migration.ts deploys lambda/migrate. */
export const MIGRATE = {
  codeFolder: 'migrate',
  service: 'schema-migration',
  environment: defineEnvironment({}),
} satisfies FunctionContract;
