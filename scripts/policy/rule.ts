/**
 * The shape of a policy rule and of what it finds. A rule is a pure function over one synthesized Terraform
 * resource (or provider block) or one rendered manifest, given read-only context: the environment it belongs
 * to and the rest of its stack or of its environment's manifests (a bucket's controls are separate resources).
 * It returns one message per problem; the engine turns them into findings and applies suppressions.
 */
import type { Environment } from '../../environments/schema';

/** An error fails `npm run validate` unless suppressed; a warning is listed and does not. */
export type Severity = 'error' | 'warning';

/** One block of Terraform JSON (a resource's arguments, a provider's configuration). */
export type Block = Readonly<Record<string, any>>;

/** The Terraform JSON of one stack as cdktf writes it to `cdktf.out/stacks/<stack>/cdk.tf.json`. */
export interface TerraformJson {
  readonly terraform?: Block;
  readonly provider?: Readonly<Record<string, readonly Block[]>>;
  readonly resource?: Readonly<Record<string, Readonly<Record<string, Block>>>>;
  readonly data?: Readonly<Record<string, Readonly<Record<string, Block>>>>;
}

/** One synthesized stack. */
export interface StackOutput {
  /** The environment the stack belongs to (the `<env>-` of its name). */
  readonly environment: string;
  /** The stack's name, `<env>-<kind>`. */
  readonly name: string;
  /** Where it was read from, relative to the repository root. */
  readonly file: string;
  readonly json: TerraformJson;
}

/** A rendered Kubernetes object. */
export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly finalizers?: readonly string[];
  };
  readonly [field: string]: any;
}

/** One rendered manifest file (one object per file). */
export interface ManifestOutput {
  readonly environment: string;
  /** Relative to the repository root, e.g. `k8s/rendered/prod/platform/namespace-hdfs.yaml`. */
  readonly file: string;
  readonly object: KubeObject;
}

/** Everything `npm run synth` writes, as the rules see it. */
export interface SynthesizedOutput {
  readonly stacks: readonly StackOutput[];
  readonly manifests: readonly ManifestOutput[];
}

/** A Terraform resource or provider block under check. */
export interface TerraformResource {
  /** The resource type (`aws_s3_bucket`), or `provider.<name>` for a provider block. */
  readonly type: string;
  /** The resource's name in its stack (`raw_bucket_B8DCEC09`), or the provider's alias or name. */
  readonly name: string;
  /** `<type>.<name>`, as Terraform and a plan name it. */
  readonly address: string;
  readonly block: Block;
}

/** What a Terraform rule may read besides the resource: its stack and environment. */
export interface TerraformContext {
  readonly env: Environment;
  readonly stack: StackOutput;
}

/** What a manifest rule may read besides the object: every manifest of the same environment. */
export interface ManifestContext {
  readonly env: Environment;
  readonly manifests: readonly ManifestOutput[];
}

/** What an environment rule reads: all of one environment's output. */
export interface EnvironmentContext extends ManifestContext {
  readonly stacks: readonly StackOutput[];
}

/** What every rule says about itself. */
export interface RuleInfo {
  /** `DL-<AREA>-<nnn>`, stable: suppressions refer to it. */
  readonly id: string;
  readonly severity: Severity;
  /** What the rule requires, in one sentence. */
  readonly description: string;
  /** How to fix a finding, in one sentence. */
  readonly hint: string;
}

/** A rule over Terraform resources of some types (or `provider.aws` for the AWS provider blocks). */
export interface TerraformRule extends RuleInfo {
  readonly target: 'terraform';
  readonly types: readonly string[];
  readonly check: (resource: TerraformResource, context: TerraformContext) => readonly string[];
}

/** A rule over rendered manifests of some kinds. */
export interface ManifestRule extends RuleInfo {
  readonly target: 'manifest';
  readonly kinds: readonly string[];
  readonly check: (object: KubeObject, context: ManifestContext) => readonly string[];
}

/** A rule over one environment's whole output: for what must exist somewhere rather than hold of each object. */
export interface EnvironmentRule extends RuleInfo {
  readonly target: 'environment';
  readonly check: (context: EnvironmentContext) => readonly string[];
}

export type Rule = TerraformRule | ManifestRule | EnvironmentRule;

/** One problem, located: environment, stack or file, resource address or object, rule. */
export interface Finding {
  readonly ruleId: string;
  readonly severity: Severity;
  readonly environment: string;
  /** The stack (`prod-data-lake`) or the manifest file; for environment rules, the environment's rendered folder. */
  readonly location: string;
  /** The resource address (`aws_s3_bucket.raw_bucket_B8DCEC09`) or object (`Namespace/hdfs`, `Deployment/spark-operator/x`). */
  readonly subject: string;
  readonly message: string;
  readonly hint: string;
}

/** A finding that a suppression next to its construct excuses, with the reason given there. */
export interface SuppressedFinding extends Finding {
  readonly reason: string;
}

/** `Kind/namespace/name`, or `Kind/name` for a cluster-scoped object. */
export function objectRef(object: KubeObject): string {
  return [object.kind, object.metadata.namespace, object.metadata.name].filter((part) => part !== undefined && part !== '').join('/');
}
