import * as z from 'zod/mini';

/**
 * No generated code in any handler: zod otherwise compiles a fast path for each object schema on
 * its first parse (`new Function`). A cold start pays for that compile, and the objects handlers
 * parse are too small for it to pay back (intake's module load falls by about 2 ms, `npm run bench
 * -- --bundles`). Every handler imports this module through its contract, so it is set before any
 * schema runs.
 */
z.config({ jitless: true });

/**
 * A function's environment, declared once for both sides: the construct in `lib/` builds the
 * variables with `toEnvironment` (typed: a missing or misnamed variable does not compile), and the
 * handler reads them with `read` (a misconfigured function fails at cold start, naming each
 * variable). No CDK and no SDK here; written with `zod/mini` so handler bundles stay small.
 */

/** A non-empty string. */
export const text = () => z.string('must be set').check(z.minLength(1, 'must not be empty'));
/** A string starting with `/` (SSM parameter names). */
export const parameterName = () => z.string('must be set').check(z.startsWith('/', 'must start with /'));
/** An ARN. */
export const arn = () => z.string('must be set').check(z.startsWith('arn:', 'must be an ARN'));
/** A URL. */
export const url = () => z.url('must be a URL');
/** A whole number of at least `min`, from its decimal text. */
export const integer = (min: number) => z.coerce.number('must be a number').check(z.int('must be a whole number'), z.gte(min, `must be at least ${min}`));
/** A number above zero, from its decimal text. */
export const positive = () => z.coerce.number('must be a number').check(z.gt(0, 'must be above zero'));
/** `true` or `false`. */
export const flag = () =>
  z.pipe(
    z.enum(['true', 'false'], 'must be true or false'),
    z.transform((value) => value === 'true'),
  );
/** A comma-separated list of names: at least one, blanks dropped. */
export const nameList = () =>
  z.pipe(
    z.pipe(
      z.string('must be set'),
      z.transform((value) =>
        value
          .split(',')
          .map((name) => name.trim())
          .filter((name) => name.length > 0),
      ),
    ),
    z.array(z.string()).check(z.minLength(1, 'must name at least one (comma-separated)')),
  );

export type Shape = Record<string, z.core.$ZodType>;

/** Variables the Lambda runtime sets itself: a construct never sets them. */
export const RUNTIME_VARIABLES = ['AWS_REGION'] as const;
type RuntimeVariable = (typeof RUNTIME_VARIABLES)[number];

/** The value a construct gives for one variable: what the handler reads it as. */
type ValueOf<T extends z.core.$ZodType> =
  z.output<T> extends number ? number : z.output<T> extends boolean ? boolean : z.output<T> extends readonly string[] ? readonly string[] : string;

/** What a construct passes to `toEnvironment`: every variable of the shape but the runtime's. */
export type Variables<S extends Shape> = { readonly [K in Exclude<keyof S, RuntimeVariable>]: ValueOf<S[K]> };

/** What the handler gets from `read`. */
export type Environment<S extends Shape> = z.output<z.ZodMiniObject<S>>;

export interface EnvironmentContract<S extends Shape> {
  readonly shape: S;
  /** The variables as Lambda stores them (text), from typed values. */
  toEnvironment(variables: Variables<S>): Record<string, string>;
  /** The handler's environment, validated; throws naming every variable that is wrong. */
  read(environment?: Record<string, string | undefined>): Environment<S>;
}

/**
 * An environment contract from its variables. `check` adds a rule across variables; it returns
 * the variable at fault and why, or nothing.
 */
export function defineEnvironment<S extends Shape>(
  shape: S,
  check?: (environment: Environment<S>) => { variable: string; problem: string } | undefined,
): EnvironmentContract<S> {
  const schema = z.object(shape);
  return {
    shape,
    toEnvironment(variables) {
      const out: Record<string, string> = {};
      for (const [name, value] of Object.entries(variables as Record<string, unknown>)) {
        out[name] = Array.isArray(value) ? value.join(',') : String(value);
      }
      return out;
    },
    read(environment = process.env) {
      const parsed = schema.safeParse(environment);
      const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
      const failed = parsed.success ? check?.(parsed.data as Environment<S>) : undefined;
      if (failed) problems.push(`${failed.variable}: ${failed.problem}`);
      if (problems.length > 0) throw new Error(`invalid function environment: ${problems.join('; ')}`);
      return parsed.data as Environment<S>;
    },
  };
}

/** A handler's contract with the construct that deploys it. */
export interface FunctionContract<S extends Shape = Shape> {
  /** The folder under `lambda/` holding its `index.ts`. */
  readonly codeFolder: string;
  /** Its logger's and metrics' service name; the construct sets POWERTOOLS_SERVICE_NAME to it. */
  readonly service: string;
  readonly environment: EnvironmentContract<S>;
}
