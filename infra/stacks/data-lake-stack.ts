import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import type { Construct } from 'constructs';
import { dataKeyAlias } from '../../environments/naming';
import type { Environment } from '../../environments/schema';
import { EnvironmentStack } from '../constructs/environment-stack';

/** `<env>-data-lake`: the customer-managed key that encrypts the data lake. */
export class DataLakeStack extends EnvironmentStack {
  /** The key every bucket of the environment is encrypted with. */
  readonly dataKey: KmsKey;

  constructor(scope: Construct, env: Environment) {
    super(scope, { env, kind: 'data-lake' });
    this.dataKey = new KmsKey(this, 'data-key', {
      description: `Encrypts the ${env.name} data lake`,
      enableKeyRotation: true,
      // The longest window: a key deleted by mistake can be recovered for a month.
      deletionWindowInDays: 30,
      lifecycle: { preventDestroy: env.retainData },
    });
    new KmsAlias(this, 'data-key-alias', { name: dataKeyAlias(env.name), targetKeyId: this.dataKey.keyId });
  }
}
