import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cidrsOverlap, parseIpv4Cidr } from './cidr';
import { ConfigError, syntaxProblems, type Problem } from './problem';
import { ENVIRONMENT_NAME, type Environment, type EnvironmentName } from './schema';
import { validateEnvironment } from './validate';

/** The folder that holds one `<name>.ts` file per environment, beside the platform's modules. */
export const ENVIRONMENTS_DIR = __dirname;

/**
 * The platform's own modules in environments/. Every other file there must declare an environment, so that a
 * misnamed or stray file is reported instead of silently ignored; no environment can take one of these names.
 */
export const PLATFORM_MODULES = ['cidr', 'load', 'naming', 'problem', 'rules', 'schema', 'validate'] as const;

/** The file that declares an environment, relative to the repository root. */
export const environmentFile = (name: EnvironmentName): string => `environments/${name}.ts`;

/** What an environment file must export, as a user would write it. */
const exportRule = (name: string) =>
  `must export the environment: export const environment = { name: '${name}', ... } satisfies EnvironmentInput`;

/** Environment names and stray files of an environments folder, from file names alone (nothing is loaded). */
function scanFolder(dir: string): { names: string[]; problems: Problem[] } {
  const names: string[] = [];
  const problems: Problem[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const base = entry.replace(/\.ts$/, '');
    if (entry.startsWith('.') || entry.endsWith('.test.ts') || (PLATFORM_MODULES as readonly string[]).includes(base)) continue;
    const file = `environments/${entry}`;
    if (entry.endsWith('.ts') && ENVIRONMENT_NAME.pattern.test(base) && statSync(join(dir, entry)).isFile()) {
      names.push(base);
    } else if (entry.endsWith('.ts')) {
      problems.push({ subject: `environment '${base}'`, file, field: '', value: base, rule: `has a file name that is no environment name: the name ${ENVIRONMENT_NAME.rule}` });
    } else {
      problems.push({
        subject: 'environments/',
        file,
        field: '',
        value: entry,
        rule: `must not be here: environments/ holds one <name>.ts file per environment (and the platform's modules ${PLATFORM_MODULES.join(', ')})`,
      });
    }
  }
  return { names, problems };
}

/** The names of the environments, one per `environments/<name>.ts`, sorted; from file names alone (nothing is loaded). */
export function environmentNames(dir: string = ENVIRONMENTS_DIR): string[] {
  return scanFolder(dir).names;
}

/**
 * Loads, validates and orders every environment in `dir`: each `<name>.ts` exports `environment`.
 * All environments are checked even when only one is synthesized, so a broken file never hides.
 * @returns the environments in deploy order (each after the one it follows; otherwise by name).
 * @throws ConfigError listing every problem in every file.
 */
export async function loadEnvironments(dir: string = ENVIRONMENTS_DIR): Promise<Environment[]> {
  const { names, problems } = scanFolder(dir);
  if (names.length === 0 && problems.length === 0) {
    problems.push({
      subject: 'environments/',
      file: 'environments/',
      field: '',
      value: undefined,
      rule: "must hold at least one environment file, environments/<name>.ts exporting `export const environment = { name: '<name>', ... } satisfies EnvironmentInput`",
    });
  }
  const declared: Record<string, unknown> = {};
  for (const name of names) {
    const loaded = await importDeclaration(join(dir, `${name}.ts`), environmentFile(name), `environment '${name}'`, 'environment', exportRule(name));
    if ('problems' in loaded) problems.push(...loaded.problems);
    else declared[name] = loaded.value;
  }
  let environments: Environment[] = [];
  try {
    environments = validateEnvironments(declared, names);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return environments;
}

/**
 * Validates what environment files declare, keyed by file name, and the rules between environments.
 * `known` lists every environment file, also those that failed to load, so that `follows` may name them.
 * @returns the environments in deploy order.
 * @throws ConfigError listing every problem.
 */
export function validateEnvironments(declared: Readonly<Record<string, unknown>>, known: readonly string[] = Object.keys(declared)): Environment[] {
  const problems: Problem[] = [];
  const environments: Environment[] = [];
  for (const [name, input] of Object.entries(declared)) {
    const result = validateEnvironment(input, name, environmentFile(name));
    if (result.ok) environments.push(result.environment);
    else problems.push(...result.problems);
  }
  problems.push(...overlappingVpcs(environments), ...deployOrderProblems(environments, known));
  if (problems.length > 0) throw new ConfigError(problems);
  return deployOrder(environments);
}

/** Environments in the order they are deployed: each after the one it follows, siblings and first ones by name. */
export function deployOrder<T extends Pick<Environment, 'name' | 'follows'>>(environments: readonly T[]): T[] {
  const sorted = [...environments].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const names = new Set(sorted.map((env) => env.name));
  const ordered: T[] = [];
  const visit = (parent: string | undefined) => {
    for (const env of sorted.filter((candidate) => (candidate.follows !== undefined && names.has(candidate.follows) ? candidate.follows : undefined) === parent)) {
      ordered.push(env);
      visit(env.name);
    }
  };
  visit(undefined);
  // Environments in a cycle are reported as problems; they still get a place, so that nothing disappears.
  return [...ordered, ...sorted.filter((env) => !ordered.includes(env))];
}

function deployOrderProblems(environments: readonly Environment[], known: readonly string[]): Problem[] {
  const byName = new Map(environments.map((env) => [env.name, env]));
  return environments.flatMap((env): Problem[] => {
    if (env.follows === undefined) return [];
    const located = (rule: string): Problem[] => [{ subject: `environment '${env.name}'`, file: environmentFile(env.name), field: 'follows', value: env.follows, rule }];
    if (env.follows === env.name) return located('must name another environment, not this one');
    if (!known.includes(env.follows)) {
      const others = known.filter((name) => name !== env.name);
      return located(`must name an environment file in environments/ (${others.length > 0 ? others.join(', ') : 'there is no other'}), or be left out for an environment deployed first`);
    }
    const chain = [env.name];
    for (let next = byName.get(env.follows); next !== undefined; next = next.follows === undefined ? undefined : byName.get(next.follows)) {
      chain.push(next.name);
      if (next.name === env.name) return located(`must not lead back to this environment (${chain.join(' follows ')}): the deploy order needs a first environment`);
      if (chain.length > environments.length + 1) break;
    }
    return [];
  });
}

// Separate VPCs are often peered or joined by a transit gateway later; overlapping ranges make that impossible.
function overlappingVpcs(environments: readonly Environment[]): Problem[] {
  return environments.flatMap((env, index) =>
    environments.slice(0, index).flatMap((earlier) => {
      const a = parseIpv4Cidr(env.network.vpcCidr);
      const b = parseIpv4Cidr(earlier.network.vpcCidr);
      if ('error' in a || 'error' in b || !cidrsOverlap(a, b)) return [];
      return [{
        subject: `environment '${env.name}'`,
        file: environmentFile(env.name),
        field: 'network.vpcCidr',
        value: env.network.vpcCidr,
        rule: `must not overlap environment '${earlier.name}' (${earlier.network.vpcCidr}), so that the VPCs can be connected`,
      }];
    }),
  );
}

let importsUnderway = 0;
let sourceMapsBefore = false;

/**
 * Imports a configuration file (an environment or a pipeline) and returns its `exportName` export. A file that
 * fails to compile or throws while loading, or exports something else, is a problem of that file, in one line
 * with the place where it is known: never a stack trace, which would point into this loader.
 */
export async function importDeclaration(
  path: string,
  file: string,
  subject: string,
  exportName: string,
  exportRule: string,
): Promise<{ value: unknown } | { problems: Problem[] }> {
  let module: Record<string, unknown>;
  // Line and column of a throw are those of the TypeScript source only with source maps on (synth turns them off).
  // Imports may overlap (environments and pipelines load together): the first turns them on, the last restores.
  if (importsUnderway++ === 0) {
    sourceMapsBefore = process.sourceMapsEnabled;
    process.setSourceMapsEnabled(true);
  }
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    const root = path.slice(0, path.length - file.length);
    const syntax = syntaxProblems(error, root, (relative, line) => {
      try {
        return readFileSync(join(root, relative), 'utf8').split('\n')[line - 1];
      } catch {
        return undefined;
      }
    });
    if (syntax !== undefined && syntax.length > 0) return { problems: syntax };
    return { problems: [{ subject, file, field: '', value: thrownText(error), rule: 'must load without an error', ...placeIn(error, path), cause: error }] };
  } finally {
    if (--importsUnderway === 0) process.setSourceMapsEnabled(sourceMapsBefore);
  }
  if (module[exportName] !== undefined) return { value: module[exportName] };
  // Importing CommonJS from ESM adds `default` (module.exports) and, on newer Node, 'module.exports'.
  const exported = Object.keys(module).filter((key) => key !== 'default' && key !== 'module.exports' && key !== '__esModule');
  return { problems: [{ subject, file, field: '', value: exported.length === 0 ? undefined : `export ${exported.join(', ')}`, rule: exportRule }] };
}

function thrownText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const firstLine = error.message.split('\n')[0] ?? '';
  return `${error.name}: ${firstLine}`;
}

/** Line and column of the first stack frame in `path`, the file that threw. */
function placeIn(error: unknown, path: string): { line?: number; column?: number } {
  const stack = error instanceof Error ? (error.stack ?? '') : '';
  const escaped = path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`(?:file://)?${escaped}:(\\d+):(\\d+)`).exec(stack);
  return match === null ? {} : { line: Number(match[1]), column: Number(match[2]) };
}
