import type { TerraformElement } from 'cdktf';

/** Why a rule of the policy gate (scripts/policy) does not apply to one resource. */
export interface PolicySuppression {
  /** The rule's ID, e.g. `DL-S3-002`. */
  readonly id: string;
  /** Why the rule does not apply here: at least a sentence, ending with a period. */
  readonly reason: string;
}

/**
 * Records suppressions in the resource's `//` metadata, which Terraform ignores as a comment and
 * `npm run validate` reads: the finding is then listed as suppressed, with this reason, instead of failing
 * the gate. Written next to the construct it excuses; several calls add up.
 */
export function suppressPolicy(resource: TerraformElement, ...suppressions: readonly PolicySuppression[]): void {
  for (const { id, reason } of suppressions) resource.addOverride(`//.suppressions.${id}`, reason);
}
