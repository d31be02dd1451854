import { cidrsOverlap, parseIpv4Cidr } from './cidr';
import { dev } from './dev';
import { ConfigError, type Problem } from './problem';
import { prod } from './prod';
import { ENVIRONMENT_NAMES, type Environment, type EnvironmentName } from './schema';
import { staging } from './staging';
import { validateEnvironment } from './validate';

/** What each environment file declares, keyed by the file's environment name. */
const DECLARED: Record<EnvironmentName, unknown> = { dev, staging, prod };

/** The file that declares an environment, relative to the repository root. */
export const environmentFile = (name: EnvironmentName): string => `environments/${name}.ts`;

/**
 * Validates every environment and returns them in the order of ENVIRONMENT_NAMES.
 * All environments are checked even when only one is synthesized, so a broken file never hides.
 * @throws ConfigError listing every problem in every file.
 */
export function loadEnvironments(declared: Record<EnvironmentName, unknown> = DECLARED): Environment[] {
  const problems: Problem[] = [];
  const environments: Environment[] = [];
  for (const name of ENVIRONMENT_NAMES) {
    const result = validateEnvironment(declared[name], name, environmentFile(name));
    if (result.ok) environments.push(result.environment);
    else problems.push(...result.problems);
  }
  problems.push(...overlappingVpcs(environments));
  if (problems.length > 0) throw new ConfigError(problems);
  return environments;
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
