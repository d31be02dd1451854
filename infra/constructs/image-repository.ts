import { EcrLifecyclePolicy } from '@cdktf/provider-aws/lib/ecr-lifecycle-policy';
import { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository';
import { EcrRepositoryPolicy } from '@cdktf/provider-aws/lib/ecr-repository-policy';
import { Construct } from 'constructs';
import { policyDocument } from './policy-document';

// What writes to a repository: the calls of a push that upload or tag, and deleting images.
const PUSH_ACTIONS = ['ecr:PutImage', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:BatchDeleteImage'] as const;

// What a pull calls, besides ecr:GetAuthorizationToken, which is not a call on a repository.
const PULL_ACTIONS = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'] as const;

// A rollback needs the image it goes back to, and the image in use is always among the newest: the deploy workflow
// pushes an image before it deploys it. 30 reaches back over many image changes (one per change to the Dockerfile
// or the jar list), and the layers the images share are stored once.
/** How many tagged images of the build the repository keeps, newest first. */
export const IMAGES_KEPT = 30;

// With immutable tags nothing is ever untagged by a later push: what no tag names was pushed by digest or left by a
// build that stopped halfway. A week leaves time to look at one before it goes.
/** Days after its push an image that no tag names is deleted. */
export const UNTAGGED_EXPIRY_DAYS = 7;

/** Props of an image repository. */
export interface ImageRepositoryProps {
  /** Repository name, from environments/naming.ts. */
  readonly repositoryName: string;
  /** KMS key that encrypts the images at rest. */
  readonly kmsKeyArn: string;
  /** The one role that may push and delete images. */
  readonly pushRoleArn: string;
  /** Roles that may pull the images. */
  readonly pullRoleArns: readonly string[];
  /** What every tag of the build starts with: the lifecycle policy keeps the newest IMAGES_KEPT of them. */
  readonly tagPrefix: string;
  /** Keep the repository when the stack is destroyed (prevent_destroy). @default true */
  readonly retain?: boolean;
}

/**
 * An ECR repository for images built by the delivery workflow: immutable tags (a tag names one image for good,
 * so a manifest that names it always runs the same bytes), scanned on push, encrypted with a customer-managed key,
 * a lifecycle policy, and a repository policy under which only one role can push or delete.
 */
export class ImageRepository extends Construct {
  /** The repository. */
  readonly repository: EcrRepository;

  constructor(scope: Construct, id: string, props: ImageRepositoryProps) {
    super(scope, id);
    const retain = props.retain ?? true;

    this.repository = new EcrRepository(this, 'repository', {
      name: props.repositoryName,
      imageTagMutability: 'IMMUTABLE',
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: [{ encryptionType: 'KMS', kmsKey: props.kmsKeyArn }],
      // Never with images in it: deleting a repository that still holds images is a decision for a person.
      forceDelete: false,
      lifecycle: { preventDestroy: retain },
    });

    new EcrLifecyclePolicy(this, 'lifecycle', {
      repository: this.repository.name,
      policy: JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            description: `Expire images no tag names, ${UNTAGGED_EXPIRY_DAYS} days after their push`,
            selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: UNTAGGED_EXPIRY_DAYS },
            action: { type: 'expire' },
          },
          {
            rulePriority: 2,
            description: `Keep the newest ${IMAGES_KEPT} images tagged ${props.tagPrefix}`,
            selection: { tagStatus: 'tagged', tagPrefixList: [props.tagPrefix], countType: 'imageCountMoreThan', countNumber: IMAGES_KEPT },
            action: { type: 'expire' },
          },
        ],
      }),
    });

    new EcrRepositoryPolicy(this, 'policy', {
      repository: this.repository.name,
      policy: policyDocument([
        {
          // A Deny outweighs any Allow of an identity policy, so no one else can push, whatever IAM grants them.
          Sid: 'OnlyThePushRoleWrites',
          Effect: 'Deny',
          Principal: '*',
          Action: PUSH_ACTIONS,
          Condition: { StringNotEquals: { 'aws:PrincipalArn': props.pushRoleArn } },
        },
        { Sid: 'PullRolesRead', Effect: 'Allow', Principal: { AWS: props.pullRoleArns }, Action: PULL_ACTIONS },
      ]),
    });
  }
}
