/** Rules for customer-managed KMS keys. */
import type { TerraformRule } from './rule';
import { isTrue } from './terraform-references';

export const kmsRotation: TerraformRule = {
  id: 'DL-KMS-001',
  severity: 'error',
  target: 'terraform',
  types: ['aws_kms_key'],
  description: 'Every symmetric customer-managed key rotates its key material automatically.',
  hint: 'Set enableKeyRotation: true on the KmsKey.',
  check: (key) => {
    // Only symmetric encryption keys can rotate; asymmetric and HMAC keys are out of this rule's reach.
    const spec = key.block.customer_master_key_spec ?? 'SYMMETRIC_DEFAULT';
    if (spec !== 'SYMMETRIC_DEFAULT') return [];
    return isTrue(key.block.enable_key_rotation) ? [] : [`the key does not rotate its key material (enable_key_rotation is not true)`];
  },
};

/** The KMS rules. */
export const KMS_RULES: readonly TerraformRule[] = [kmsRotation];
