import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';

/** Every function's runtime: the newest Node.js Lambda offers (Node.js 20 is deprecated there). */
export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_24_X;
/** Graviton: cheaper per millisecond and no slower for this I/O-bound code. */
export const LAMBDA_ARCHITECTURE = lambda.Architecture.ARM_64;

/**
 * Bundling for every NodejsFunction: the locally installed esbuild (never Docker), minified with
 * source maps, SQL migrations bundled as text. The AWS SDK is bundled too rather than taken from
 * the runtime: the package then runs the SDK version the tests ran, whatever the runtime ships.
 * Identical options in both regions give byte-identical assets.
 */
export function lambdaBundling(): nodejs.BundlingOptions {
  return {
    forceDockerBundling: false,
    minify: true,
    sourceMap: true,
    sourcesContent: false,
    target: 'node24',
    format: nodejs.OutputFormat.CJS,
    externalModules: [],
    loader: { '.sql': 'text' },
  };
}
