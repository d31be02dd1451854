/**
 * Runs rules over synthesized output: every Terraform resource and AWS provider block of every stack, every
 * rendered manifest, and each environment as a whole. Applies the suppressions written next to the constructs
 * and keeps the excused findings, with their reasons, so that the report can list them.
 */
import type { Environment } from '../../environments/schema';
import {
  objectRef,
  type EnvironmentContext,
  type Finding,
  type ManifestContext,
  type Rule,
  type RuleInfo,
  type SuppressedFinding,
  type SynthesizedOutput,
  type TerraformContext,
  type TerraformResource,
} from './rule';
import {
  INVALID_SUPPRESSION,
  manifestSuppressions,
  suppressionProblem,
  terraformSuppressions,
  UNUSED_SUPPRESSION,
  type ParsedSuppressions,
} from './suppressions';
import { providersOf, resourcesOf } from './terraform-references';

/** The outcome of running the rules. */
export interface Evaluation {
  /** Findings no suppression excuses, per environment in the order given, errors first. */
  readonly findings: readonly Finding[];
  /** Findings excused by a suppression, with its reason. */
  readonly suppressed: readonly SuppressedFinding[];
  /** The environments evaluated, in order. */
  readonly environments: readonly string[];
  /** How much was checked. */
  readonly checked: { readonly stacks: number; readonly resources: number; readonly manifests: number; readonly rules: number };
}

/** Runs `rules` over the output of each of `environments` (output of other environments is ignored). */
export function evaluate(rules: readonly Rule[], output: SynthesizedOutput, environments: readonly Environment[]): Evaluation {
  const knownIds = new Set(rules.map((rule) => rule.id));
  const findings: Finding[] = [];
  const suppressed: SuppressedFinding[] = [];
  let resourceCount = 0;
  let stackCount = 0;
  let manifestCount = 0;

  for (const env of environments) {
    const stacks = output.stacks.filter((stack) => stack.environment === env.name);
    const manifests = output.manifests.filter((manifest) => manifest.environment === env.name);
    stackCount += stacks.length;
    manifestCount += manifests.length;

    for (const stack of stacks) {
      const context: TerraformContext = { env, stack };
      const subjects: TerraformResource[] = [
        ...Object.keys(stack.json.provider ?? {}).sort().flatMap((provider) => providersOf(stack, provider)),
        ...Object.keys(stack.json.resource ?? {}).sort().flatMap((type) => resourcesOf(stack, type)),
      ];
      resourceCount += subjects.length;
      for (const subject of subjects) {
        const applicable = rules.filter((rule) => rule.target === 'terraform' && rule.types.includes(subject.type));
        const messages = applicable.map((rule) => ({
          rule,
          messages: runSafely(() => (rule.target === 'terraform' ? rule.check(subject, context) : [])),
        }));
        judge(messages, terraformSuppressions(subject.block), knownIds, { environment: env.name, location: stack.name, subject: subject.address }, findings, suppressed);
      }
    }

    const manifestContext: ManifestContext = { env, manifests };
    for (const manifest of manifests) {
      const { object } = manifest;
      const applicable = rules.filter((rule) => rule.target === 'manifest' && (rule.kinds.includes(object.kind) || rule.kinds.includes('*')));
      const messages = applicable.map((rule) => ({
        rule,
        messages: runSafely(() => (rule.target === 'manifest' ? rule.check(object, manifestContext) : [])),
      }));
      judge(messages, manifestSuppressions(object), knownIds, { environment: env.name, location: manifest.file, subject: objectRef(object) }, findings, suppressed);
    }

    const environmentContext: EnvironmentContext = { env, manifests, stacks };
    for (const rule of rules) {
      if (rule.target !== 'environment') continue;
      for (const message of runSafely(() => rule.check(environmentContext))) {
        findings.push(finding(rule, { environment: env.name, location: `k8s/rendered/${env.name}`, subject: `environment ${env.name}` }, message));
      }
    }
  }

  const order = environments.map((env) => env.name);
  return {
    findings: sortFindings(findings, order),
    suppressed: sortFindings(suppressed, order),
    environments: order,
    checked: { stacks: stackCount, resources: resourceCount, manifests: manifestCount, rules: rules.length },
  };
}

type Where = Pick<Finding, 'environment' | 'location' | 'subject'>;

function finding(rule: RuleInfo, where: Where, message: string): Finding {
  return { ruleId: rule.id, severity: rule.severity, ...where, message, hint: rule.hint };
}

/** Sorts findings by environment (in the given order), errors first, then where and which rule. */
export function sortFindings<T extends Finding>(findings: readonly T[], environmentOrder: readonly string[]): T[] {
  const rank = (f: Finding) => environmentOrder.indexOf(f.environment);
  // Terraform stacks before manifest files, as the README lists the AWS side first.
  const side = (f: Finding) => (f.location.startsWith('k8s/') ? 1 : 0);
  return [...findings].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1) ||
      side(a) - side(b) ||
      a.location.localeCompare(b.location, 'en') ||
      a.subject.localeCompare(b.subject, 'en') ||
      a.ruleId.localeCompare(b.ruleId, 'en') ||
      a.message.localeCompare(b.message, 'en'),
  );
}

/** A rule that throws on unexpected input reports that as its own finding rather than stopping the gate. */
function runSafely(check: () => readonly string[]): readonly string[] {
  try {
    return check();
  } catch (error) {
    return [`the rule could not check this (${(error as Error).message}); fix the input or the rule`];
  }
}

/** Turns the rules' messages about one subject into findings, excused where a valid suppression says so. */
function judge(
  results: ReadonlyArray<{ rule: RuleInfo; messages: readonly string[] }>,
  parsed: ParsedSuppressions,
  knownIds: ReadonlySet<string>,
  where: Where,
  findings: Finding[],
  suppressed: SuppressedFinding[],
): void {
  for (const problem of parsed.problems) findings.push(finding(INVALID_SUPPRESSION, where, problem));
  const valid = new Map<string, string>();
  for (const suppression of parsed.suppressions) {
    const problem = suppressionProblem(suppression, knownIds);
    if (problem === undefined) valid.set(suppression.id, suppression.reason.trim());
    else findings.push(finding(INVALID_SUPPRESSION, where, problem));
  }
  const used = new Set<string>();
  for (const { rule, messages } of results) {
    const reason = valid.get(rule.id);
    for (const message of messages) {
      if (reason === undefined) {
        findings.push(finding(rule, where, message));
      } else {
        suppressed.push({ ...finding(rule, where, message), reason });
        used.add(rule.id);
      }
    }
  }
  for (const id of valid.keys()) {
    if (!used.has(id)) findings.push(finding(UNUSED_SUPPRESSION, where, `suppression '${id}' excuses nothing: ${id} finds no problem here`));
  }
}
