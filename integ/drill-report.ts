import { execFileSync } from 'child_process';
import { promises as fs } from 'fs';
import * as path from 'path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { withRetry } from '../lambda/shared/retry';
import { drillReportPrefix, Naming, Purpose } from '../lib/core/naming';

/**
 * A drill's evidence: one report per drill (planned, unplanned, restore), written as JSON and as
 * Markdown to the environment's audit bucket in the drill's target region, under
 * `drills/<env>/<yyyy-mm-dd>/<kind>-<time>.json|.md` (drillReportPrefix in lib/core/naming.ts), and
 * the same two files under `drill-reports/` locally, so a pipeline step can print or keep them.
 *
 * The bucket's default encryption (KMS) applies: the put names no encryption of its own. A failed
 * upload never changes the drill's verdict; it is recorded in `result.evidenceProblems` of the
 * local copy and printed.
 */

export const DRILL_KINDS = ['planned', 'unplanned', 'restore'] as const;
export type DrillKind = (typeof DRILL_KINDS)[number];

/** The directory the local copies go to (gitignored), below the working directory. */
export const LOCAL_REPORT_DIRECTORY = 'drill-reports';

/** The version of the report's shape; raise it when a field changes meaning. */
export const REPORT_SCHEMA_VERSION = 1;

const isoTime = z.iso.datetime({ offset: false });

/** The report's shape, defined once: the writer validates every report against it before writing. */
export const DrillReportSchema = z
  .object({
    schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
    kind: z.enum(DRILL_KINDS),
    appName: z.string().min(1),
    environment: z.string().regex(/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$/, 'must be an environment suffix'),
    account: z.string().regex(/^\d{12}$/, 'must be a 12-digit account id'),
    /** Where the drill ran (`target`) and the deployment's other region. */
    regions: z.object({ target: z.string().min(1), other: z.string().min(1) }),
    /** Each target by name (seconds or minutes in the name), as the drill compared them. */
    targets: z.record(z.string(), z.number()),
    /** Each measured figure by name; null when it could not be measured. */
    figures: z.record(z.string(), z.number().nullable()),
    result: z.object({
      passed: z.boolean(),
      /** Why the drill failed; empty when it passed. */
      problems: z.array(z.string()),
      /** Problems writing this evidence (they never change `passed`). */
      evidenceProblems: z.array(z.string()),
    }),
    /** The failover state machine's execution, when the drill started one. */
    executionArn: z.string().nullable(),
    /** The fault-injection experiment of the unplanned drill; null otherwise. */
    experimentId: z.string().nullable(),
    /** The commit the drill ran from. */
    commit: z.string().min(1),
    /** Who or what started the drill: the CodeBuild build (and its initiator) or the caller's ARN. */
    startedBy: z.string().min(1),
    startedAt: isoTime,
    endedAt: isoTime,
    /** What a kind of drill adds (the restore drill: recovery point, restored counts, missing orders). */
    details: z.record(z.string(), z.unknown()),
  })
  .strict();
export type DrillReportDocument = z.infer<typeof DrillReportSchema>;

/** Where the commit and the starter come from (process.env and git by default; tests pass their own). */
export interface ProvenanceSources {
  readonly env: Record<string, string | undefined>;
  /** `git rev-parse HEAD`, or undefined outside a repository. */
  readonly gitHead: () => string | undefined;
  /** The caller's ARN (STS GetCallerIdentity), used outside CodeBuild. */
  readonly callerArn: () => Promise<string>;
}

/** `git rev-parse HEAD` in the working directory; undefined when git or the repository is missing. */
export function gitHead(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined;
  } catch {
    // Not a repository (a copied bundle, a container without git): the report says "unknown".
    return undefined;
  }
}

/**
 * The commit (CodeBuild's resolved source version, else git, else "unknown") and who started the
 * drill (the CodeBuild build and its initiator, else the caller's ARN).
 */
export async function drillProvenance(sources: ProvenanceSources): Promise<{ commit: string; startedBy: string }> {
  const commit = sources.env.CODEBUILD_RESOLVED_SOURCE_VERSION || sources.gitHead() || 'unknown';
  const build = sources.env.CODEBUILD_BUILD_ARN;
  if (build) {
    const initiator = sources.env.CODEBUILD_INITIATOR;
    return { commit, startedBy: initiator ? `${build} (initiator ${initiator})` : build };
  }
  try {
    return { commit, startedBy: await sources.callerArn() };
  } catch (error) {
    return { commit, startedBy: `unknown (STS GetCallerIdentity failed: ${(error as Error).message})` };
  }
}

/** The S3 key and local path of a report's two files. */
export function reportLocation(report: Pick<DrillReportDocument, 'kind' | 'environment' | 'startedAt'>): { keyStem: string; localStem: string } {
  const day = report.startedAt.slice(0, 10);
  // Colons and dots make awkward file names on some systems; the time stays readable and sortable.
  const file = `${report.kind}-${report.startedAt.replace(/[:.]/g, '-')}`;
  return {
    keyStem: `${drillReportPrefix(report.environment)}${day}/${file}`,
    localStem: path.join(LOCAL_REPORT_DIRECTORY, report.environment, day, file),
  };
}

/** The audit bucket the report goes to: the environment's, in the drill's target region. */
export function auditBucket(report: Pick<DrillReportDocument, 'appName' | 'environment' | 'account' | 'regions'>): string {
  return Naming.forDeployment({ appName: report.appName, environmentSuffix: report.environment, account: report.account }, report.regions.target).name(
    'bucket',
    Purpose.auditLogs,
  );
}

function cell(value: unknown): string {
  return String(value).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The report as Markdown for a human reader (an auditor, a pull request). */
export function reportMarkdown(report: DrillReportDocument): string {
  const lines = [
    `# ${report.kind} drill: ${report.environment} (${report.regions.target}): ${report.result.passed ? 'PASSED' : 'FAILED'}`,
    '',
    '| | |',
    '| --- | --- |',
    `| kind | ${report.kind} |`,
    `| environment | ${cell(report.environment)} (${cell(report.appName)}, account ${report.account}) |`,
    `| regions | target ${report.regions.target}, other ${report.regions.other} |`,
    `| started | ${report.startedAt} |`,
    `| ended | ${report.endedAt} |`,
    `| started by | ${cell(report.startedBy)} |`,
    `| commit | ${cell(report.commit)} |`,
    `| execution | ${cell(report.executionArn ?? 'none')} |`,
    `| experiment | ${cell(report.experimentId ?? 'none')} |`,
    '',
    '## Figures against targets',
    '',
    '| figure | value |',
    '| --- | --- |',
    ...Object.entries(report.figures).map(([name, value]) => `| ${cell(name)} | ${value === null ? 'unknown' : value} |`),
    '',
    '| target | value |',
    '| --- | --- |',
    ...Object.entries(report.targets).map(([name, value]) => `| ${cell(name)} | ${value} |`),
    '',
    '## Result',
    '',
    report.result.passed ? 'Passed: every check held.' : 'Failed:',
    ...report.result.problems.map((problem) => `- ${cell(problem)}`),
    ...(report.result.evidenceProblems.length > 0 ? ['', 'Evidence:', ...report.result.evidenceProblems.map((problem) => `- ${cell(problem)}`)] : []),
  ];
  if (Object.keys(report.details).length > 0) {
    lines.push('', '## Details', '', '```json', JSON.stringify(report.details, null, 2), '```');
  }
  return `${lines.join('\n')}\n`;
}

/** What writeDrillReport needs: S3 in the target region and where the local copies go. */
export interface DrillReportDependencies {
  /** S3 in the drill's target region (the audit bucket's). */
  readonly s3: Pick<S3Client, 'send'>;
  /** The directory the local `drill-reports/` lives in. @default process.cwd() */
  readonly baseDirectory?: string;
  /** How retries wait (tests pass an instant one). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Where the report went. */
export interface DrillReportLocation {
  readonly bucket: string;
  readonly jsonKey: string;
  readonly markdownKey: string;
  readonly localJson: string;
  readonly localMarkdown: string;
  /** Whether both files reached the bucket. */
  readonly uploaded: boolean;
  /** The report as written (with any evidence problem). */
  readonly report: DrillReportDocument;
}

/** Upload attempts per file: S3 throttles and drops connections now and then. */
const UPLOAD_ATTEMPTS = 4;

/**
 * Validates the report, puts its JSON and Markdown into the audit bucket and writes the same two
 * files locally. Throws only for a report that breaks the schema (a programming error); a failed
 * upload is recorded in `result.evidenceProblems` of the local copy and returned.
 */
export async function writeDrillReport(input: DrillReportDocument, deps: DrillReportDependencies): Promise<DrillReportLocation> {
  const parsed = DrillReportSchema.safeParse(input);
  if (!parsed.success) {
    throw new Error(`drill report: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(report)'}: ${issue.message}`).join('; ')}`);
  }
  const { keyStem, localStem } = reportLocation(parsed.data);
  const bucket = auditBucket(parsed.data);
  const jsonKey = `${keyStem}.json`;
  const markdownKey = `${keyStem}.md`;
  const evidenceProblems = [...parsed.data.result.evidenceProblems];
  const put = async (key: string, body: string, contentType: string): Promise<void> => {
    try {
      await withRetry(
        `put s3://${bucket}/${key}`,
        () => deps.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType })),
        {
          attempts: UPLOAD_ATTEMPTS,
          sleep: deps.sleep,
        },
      );
    } catch (error) {
      evidenceProblems.push(`upload to s3://${bucket}/${key} failed: ${(error as Error).message}`);
    }
  };
  // The bucket gets the report as the drill produced it; only the local copy can also say the upload failed.
  await put(jsonKey, `${JSON.stringify(parsed.data, null, 2)}\n`, 'application/json');
  await put(markdownKey, reportMarkdown(parsed.data), 'text/markdown; charset=utf-8');
  const report: DrillReportDocument = { ...parsed.data, result: { ...parsed.data.result, evidenceProblems } };
  const base = deps.baseDirectory ?? process.cwd();
  const localJson = path.join(base, `${localStem}.json`);
  const localMarkdown = path.join(base, `${localStem}.md`);
  await fs.mkdir(path.dirname(localJson), { recursive: true });
  await fs.writeFile(localJson, `${JSON.stringify(report, null, 2)}\n`);
  await fs.writeFile(localMarkdown, reportMarkdown(report));
  return { bucket, jsonKey, markdownKey, localJson, localMarkdown, uploaded: evidenceProblems.length === parsed.data.result.evidenceProblems.length, report };
}

/** The short summary the CLI prints after a drill: verdict and where the evidence went. */
export function evidenceSummary(location: DrillReportLocation): string[] {
  const lines = [
    location.uploaded
      ? `report: s3://${location.bucket}/${location.jsonKey} (and .md)`
      : `report NOT uploaded to s3://${location.bucket}/${location.jsonKey}; local copy only`,
    `local copy: ${location.localJson} (and .md)`,
  ];
  return lines;
}
