/**
 * Rules for SQS queues (Karpenter's interruption queue, and any queue to come). The queue policy is a resource of its
 * own that points at the queue by its URL (`"queue_url": "${aws_sqs_queue.x.url}"`, or the literal URL), so the rules
 * check the queue and look for the policy that points at it.
 */
import { conditionValues, isAnyone, policyStatements } from './iam-policy';
import type { StackOutput, TerraformResource, TerraformRule } from './rule';
import { designates, isTrue, resourcesOf } from './terraform-references';

/** How a queue is named in messages: its name, else its address. */
function queueLabel(queue: TerraformResource): string {
  return `queue ${typeof queue.block.name === 'string' ? queue.block.name : queue.address}`;
}

/** The queue policies that apply to `queue`: by reference, or by a literal URL that ends with the queue's name. */
function policiesOf(stack: StackOutput, queue: TerraformResource): TerraformResource[] {
  const name = queue.block.name;
  return resourcesOf(stack, 'aws_sqs_queue_policy').filter(
    (policy) => designates(policy.block.queue_url, queue) || (typeof name === 'string' && name !== '' && typeof policy.block.queue_url === 'string' && policy.block.queue_url.endsWith(`/${name}`)),
  );
}

export const sqsEncrypted: TerraformRule = {
  id: 'DL-SQS-001',
  severity: 'error',
  target: 'terraform',
  types: ['aws_sqs_queue'],
  description: 'Every queue encrypts its messages at rest, with SQS-managed keys or a KMS key.',
  hint: 'Set sqsManagedSseEnabled: true on the SqsQueue (or kmsMasterKeyId for a key of your own).',
  check: (queue) => {
    const kms = queue.block.kms_master_key_id;
    if (typeof kms === 'string' && kms !== '') return [];
    return isTrue(queue.block.sqs_managed_sse_enabled) ? [] : [`${queueLabel(queue)} does not encrypt its messages (neither sqs_managed_sse_enabled nor kms_master_key_id)`];
  },
};

export const sqsTlsOnly: TerraformRule = {
  id: 'DL-SQS-002',
  severity: 'error',
  target: 'terraform',
  types: ['aws_sqs_queue'],
  description: "Every queue's policy denies all SQS actions to anyone over plain HTTP (aws:SecureTransport false).",
  hint: "Add a queue policy with a Deny for Principal '*', Action 'sqs:*', Resource the queue ARN, Condition Bool aws:SecureTransport 'false'.",
  check: (queue, { stack }) => {
    const policies = policiesOf(stack, queue);
    if (policies.length === 0) return [`${queueLabel(queue)} has no queue policy, so nothing denies requests without TLS`];
    const name = queue.block.name;
    const coversQueue = (resource: string) => resource === '*' || designates(resource, queue) || (typeof name === 'string' && resource.endsWith(`:${name}`));
    const denies = policies.some((policy) => {
      const read = policyStatements(policy.block.policy);
      if ('error' in read) return false;
      return read.statements.some(
        (s) =>
          s.effect === 'Deny' &&
          isAnyone(s.principal) &&
          (s.actions.includes('sqs:*') || s.actions.includes('*')) &&
          (conditionValues(s, ['Bool'], 'aws:SecureTransport') ?? []).includes('false') &&
          s.resources.some(coversQueue),
      );
    });
    return denies ? [] : [`${queueLabel(queue)} has no policy statement denying sqs:* to anyone without TLS`];
  },
};

/** The SQS rules. */
export const SQS_RULES: readonly TerraformRule[] = [sqsEncrypted, sqsTlsOnly];
