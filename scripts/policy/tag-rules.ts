/** Rules for tags: every AWS resource carries the environment's tags through the provider's default_tags. */
import type { TerraformRule } from './rule';
import { every } from './terraform-references';

/** Tags every AWS resource carries (see environmentTags in infra/constructs/environment-stack.ts). */
export const REQUIRED_TAGS = ['environment', 'owner', 'cost-centre', 'managed-by'] as const;

export const requiredTags: TerraformRule = {
  id: 'DL-TAG-001',
  severity: 'error',
  target: 'terraform',
  types: ['provider.aws'],
  description: `Every AWS provider tags all resources with ${REQUIRED_TAGS.join(', ')} (default_tags), the environment tag naming the stack's environment.`,
  hint: 'Create stacks as EnvironmentStack, whose provider sets default_tags from environmentTags(env).',
  check: (provider, { env }) => {
    const tags = Object.assign({}, ...every(provider.block.default_tags).map((d) => (d.tags ?? {}) as Record<string, unknown>)) as Record<string, unknown>;
    const missing = REQUIRED_TAGS.filter((tag) => typeof tags[tag] !== 'string' || (tags[tag] as string).trim() === '');
    return [
      ...(missing.length === 0 ? [] : [`the provider does not tag resources with ${missing.join(', ')}`]),
      ...(tags.environment !== undefined && tags.environment !== env.name
        ? [`the provider tags resources with environment ${JSON.stringify(tags.environment)}, not '${env.name}'`]
        : []),
    ];
  },
};

/** The tag rules. */
export const TAG_RULES: readonly TerraformRule[] = [requiredTags];
