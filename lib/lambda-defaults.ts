import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';

/** Every function's runtime: the newest Node.js Lambda offers (Node.js 20 is deprecated there). */
export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_24_X;
/** Graviton: cheaper per millisecond and no slower for this I/O-bound code. */
export const LAMBDA_ARCHITECTURE = lambda.Architecture.ARM_64;

/**
 * Bundling for every NodejsFunction: the locally installed esbuild (never Docker), minified with
 * source maps, the AWS SDK v3 taken from the runtime, SQL migrations bundled as text. Identical
 * options in both regions give byte-identical assets.
 */
export function lambdaBundling(): nodejs.BundlingOptions {
  return {
    forceDockerBundling: false,
    minify: true,
    sourceMap: true,
    sourcesContent: false,
    target: 'node24',
    format: nodejs.OutputFormat.CJS,
    externalModules: ['@aws-sdk/*'],
    loader: { '.sql': 'text' },
  };
}
