import * as esbuild from 'esbuild';
import { BUNDLE_OPTIONS } from '../../lib/core/lambda-defaults';

/**
 * Bundles `entry` into `outfile` exactly as the deployment bundles a handler (BUNDLE_OPTIONS), for
 * the bundle checks and the benchmark; returns esbuild's metafile.
 */
export async function bundleAsDeployed(entry: string, outfile: string): Promise<esbuild.Metafile> {
  const result = await esbuild.build({
    ...BUNDLE_OPTIONS,
    mainFields: [...BUNDLE_OPTIONS.mainFields],
    entryPoints: [entry],
    bundle: true,
    outfile,
    metafile: true,
    logLevel: 'silent',
  });
  return result.metafile;
}
