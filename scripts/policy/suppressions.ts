/**
 * Suppressions: a rule ID and a reason, written next to the construct they excuse and carried into the
 * synthesized output, so that `npm run validate` lists every excused finding with its reason.
 *
 * - Terraform: in the resource's `//` metadata, which Terraform ignores as a comment
 *   (`suppressPolicy(resource, { id, reason })` in infra/constructs/policy-suppression.ts writes
 *   `"//": { "suppressions": { "<ID>": "<reason>" } }`; a list `[{ "id", "reason" }]` is read too).
 * - Manifests: the annotation `driftless.io/suppress: "<ID>: <reason>; <ID>: <reason>"`.
 *
 * A suppression that names no known rule or gives no real reason is itself an error, and one that excuses
 * nothing is a warning, so that a stale excuse cannot hide the next problem of that kind.
 */
import type { Block, KubeObject, RuleInfo } from './rule';

/** The annotation that carries a manifest's suppressions. */
export const SUPPRESS_ANNOTATION = 'driftless.io/suppress';

/** A reason must be at least a sentence: this long, ending with a period. */
export const MIN_REASON_LENGTH = 20;

/** One suppression as written. */
export interface Suppression {
  readonly id: string;
  readonly reason: string;
}

/** The suppressions found on a resource or object, and what is wrong with how they are written. */
export interface ParsedSuppressions {
  readonly suppressions: readonly Suppression[];
  readonly problems: readonly string[];
}

/** Findings the engine makes about suppressions themselves. */
export const INVALID_SUPPRESSION: RuleInfo = {
  id: 'DL-POLICY-001',
  severity: 'error',
  description: 'A suppression names a known rule and gives a reason of at least a sentence.',
  hint: `Write the rule ID (e.g. DL-S3-002) and why the rule does not apply here, at least ${MIN_REASON_LENGTH} characters ending with a period.`,
};

export const UNUSED_SUPPRESSION: RuleInfo = {
  id: 'DL-POLICY-002',
  severity: 'warning',
  description: 'A suppression excuses a finding that exists.',
  hint: 'Remove the suppression: the rule it names no longer finds anything here.',
};

const RULE_ID = /^DL-[A-Z0-9]+-\d{3}$/;

/** Suppressions in a Terraform block's `//` metadata. */
export function terraformSuppressions(block: Block): ParsedSuppressions {
  const raw: unknown = block['//']?.suppressions;
  if (raw === undefined) return { suppressions: [], problems: [] };
  if (Array.isArray(raw)) {
    const suppressions: Suppression[] = [];
    const problems: string[] = [];
    raw.forEach((entry: unknown, index) => {
      const { id, reason } = (entry ?? {}) as { id?: unknown; reason?: unknown };
      if (typeof id === 'string' && typeof reason === 'string') suppressions.push({ id, reason });
      else problems.push(`suppression ${index} must be { id, reason } with two strings, got ${JSON.stringify(entry)}`);
    });
    return { suppressions, problems };
  }
  if (raw !== null && typeof raw === 'object') {
    const entries = Object.entries(raw as Record<string, unknown>);
    return {
      suppressions: entries.filter(([, reason]) => typeof reason === 'string').map(([id, reason]) => ({ id, reason: reason as string })),
      problems: entries.filter(([, reason]) => typeof reason !== 'string').map(([id, reason]) => `suppression ${id} must have a reason as a string, got ${JSON.stringify(reason)}`),
    };
  }
  return { suppressions: [], problems: [`'//.suppressions' must map rule IDs to reasons, got ${JSON.stringify(raw)}`] };
}

/** Suppressions in a manifest's `driftless.io/suppress` annotation: `<ID>: <reason>` entries separated by `;`. */
export function manifestSuppressions(object: KubeObject): ParsedSuppressions {
  const raw = object.metadata.annotations?.[SUPPRESS_ANNOTATION];
  if (raw === undefined) return { suppressions: [], problems: [] };
  const suppressions: Suppression[] = [];
  const problems: string[] = [];
  // Split only before `; <ID>:`, so that a reason may itself contain a semicolon.
  for (const entry of String(raw).split(/;\s*(?=DL-[A-Z0-9]+-\d{3}\s*:)/)) {
    const match = /^\s*([^:\s]+)\s*:\s*([\s\S]*?)\s*$/.exec(entry);
    if (match) suppressions.push({ id: match[1]!, reason: match[2]! });
    else problems.push(`'${SUPPRESS_ANNOTATION}' entries must read '<rule ID>: <reason>', got ${JSON.stringify(entry.trim())}`);
  }
  return { suppressions, problems };
}

/** What is wrong with one suppression, or undefined when it names a known rule and gives a reason. */
export function suppressionProblem(suppression: Suppression, knownIds: ReadonlySet<string>): string | undefined {
  if (!RULE_ID.test(suppression.id)) return `suppression '${suppression.id}' must name a rule ID such as DL-S3-002`;
  if (!knownIds.has(suppression.id)) return `suppression '${suppression.id}' names no known rule`;
  const reason = suppression.reason.trim();
  if (reason.length < MIN_REASON_LENGTH || !reason.endsWith('.')) {
    return `suppression '${suppression.id}' must give a reason of at least a sentence (${MIN_REASON_LENGTH}+ characters ending with a period), got ${JSON.stringify(reason)}`;
  }
  return undefined;
}
