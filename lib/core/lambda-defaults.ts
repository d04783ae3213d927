import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';

/** Every function's runtime: the newest Node.js Lambda offers (Node.js 20 is deprecated there). */
export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_24_X;
/** Graviton: cheaper per millisecond and no slower for this I/O-bound code. */
export const LAMBDA_ARCHITECTURE = lambda.Architecture.ARM_64;

/**
 * The esbuild options every handler bundle is built with, here once for the deployment
 * (lambdaBundling), the bundle checks (test/lambda/bundles.test.ts) and the benchmark.
 * - `mainFields`: ES modules first. The AWS SDK's CommonJS build ships each service client as one
 *   file with every operation's schema, which esbuild cannot cut; its ES build lets esbuild keep
 *   only the commands a handler sends (the readiness bundle falls from 1.6 MB to 0.7 MB).
 * - The AWS SDK is bundled too rather than taken from the runtime: the package then runs the SDK
 *   version the tests ran, whatever the runtime ships.
 * - SQL migrations are bundled as text.
 */
export const BUNDLE_OPTIONS = {
  platform: 'node',
  target: 'node24',
  format: 'cjs',
  minify: true,
  mainFields: ['module', 'main'],
  loader: { '.sql': 'text' },
} as const;

/** Where a function's source map goes when it is kept out of its package: this folder of the cloud assembly (cdk.out). */
export const SOURCE_MAP_FOLDER = 'source-maps';

export interface LambdaBundlingProps {
  /** Names the source map kept in the build output (`<cdk.out>/source-maps/<name>.js.map`). */
  readonly name: string;
  /**
   * Put the source map in the deployed package and have Node.js use it for stack traces (config's
   * `lambdaSourceMaps`). Otherwise the package holds the code alone and the map stays in the build
   * output for debugging.
   */
  readonly sourceMapInPackage: boolean;
}

/**
 * Bundling for every NodejsFunction: the locally installed esbuild (never Docker) with
 * BUNDLE_OPTIONS. Identical options in both regions give byte-identical assets.
 */
export function lambdaBundling(props: LambdaBundlingProps): nodejs.BundlingOptions {
  const common: nodejs.BundlingOptions = {
    forceDockerBundling: false,
    minify: BUNDLE_OPTIONS.minify,
    target: BUNDLE_OPTIONS.target,
    format: nodejs.OutputFormat.CJS,
    mainFields: [...BUNDLE_OPTIONS.mainFields],
    externalModules: [],
    loader: { ...BUNDLE_OPTIONS.loader },
    sourceMap: true,
    sourcesContent: false,
  };
  if (props.sourceMapInPackage) return common;
  return {
    ...common,
    // A map file without the comment that points to it, then moved out before the asset is hashed and zipped.
    sourceMapMode: nodejs.SourceMapMode.EXTERNAL,
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (_inputDir, outputDir) => [
        `mkdir -p "${outputDir}/../${SOURCE_MAP_FOLDER}" && mv "${outputDir}/index.js.map" "${outputDir}/../${SOURCE_MAP_FOLDER}/${props.name}.js.map"`,
      ],
    },
  };
}

/** What a function's environment needs for its bundling: Node.js told to use the source map when the package has one. */
export function sourceMapEnvironment(sourceMapInPackage: boolean): Record<string, string> {
  return sourceMapInPackage ? { NODE_OPTIONS: '--enable-source-maps' } : {};
}
