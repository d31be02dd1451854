import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy';
import { Construct } from 'constructs';
import { policyDocument } from './policy-document';

// An interruption notice is useless after the instance is gone: a spot warning gives two minutes, so five minutes
// of retention keeps nothing Karpenter could still act on (the value of Karpenter's reference template).
/** Seconds a message stays in the interruption queue. */
export const INTERRUPTION_RETENTION_SECONDS = 300;

/**
 * The events Karpenter acts on, each one EventBridge rule (by the suffix of its name). No rule for capacity-reservation
 * interruptions: the environments' NodePools buy spot and on-demand capacity only (CAPACITY_TYPES).
 */
export const INTERRUPTION_EVENTS = {
  // Karpenter reads only EC2's scheduled changes (maintenance, retirement) among AWS Health events; the others
  // would only be received and deleted.
  health: { source: ['aws.health'], 'detail-type': ['AWS Health Event'], detail: { service: ['EC2'], eventTypeCategory: ['scheduledChange'] } },
  spot: { source: ['aws.ec2'], 'detail-type': ['EC2 Spot Instance Interruption Warning'] },
  rebalance: { source: ['aws.ec2'], 'detail-type': ['EC2 Instance Rebalance Recommendation'] },
  state: { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'] },
} as const;

/** Props of an interruption queue. */
export interface InterruptionQueueProps {
  /** Queue name, from environments/naming.ts; the rules are named after it. */
  readonly queueName: string;
}

/**
 * The SQS queue through which Karpenter learns, ahead of time, that an instance will go (spot interruption, scheduled
 * maintenance, rebalance recommendation) or has gone (state change), so that it drains the node first: encrypted
 * (SQS-managed keys: the messages are AWS's own events about our instances), kept briefly, written only by
 * EventBridge for this queue's rules, and reachable only over TLS.
 */
export class InterruptionQueue extends Construct {
  /** The queue. */
  readonly queue: SqsQueue;

  constructor(scope: Construct, id: string, props: InterruptionQueueProps) {
    super(scope, id);
    this.queue = new SqsQueue(this, 'queue', {
      name: props.queueName,
      messageRetentionSeconds: INTERRUPTION_RETENTION_SECONDS,
      sqsManagedSseEnabled: true,
    });

    const rules = Object.entries(INTERRUPTION_EVENTS).map(([event, pattern]) => {
      const rule = new CloudwatchEventRule(this, `${event}-rule`, {
        name: `${props.queueName}-${event}`,
        description: `Sends ${pattern['detail-type'][0]} events to Karpenter's interruption queue`,
        eventPattern: JSON.stringify(pattern),
      });
      new CloudwatchEventTarget(this, `${event}-target`, { rule: rule.name, targetId: 'karpenter-interruption-queue', arn: this.queue.arn });
      return rule;
    });

    new SqsQueuePolicy(this, 'policy', {
      queueUrl: this.queue.url,
      policy: policyDocument([
        {
          // Only this queue's own rules may write to it, not any rule of any account that names its ARN.
          Sid: 'EventBridgeRulesSend',
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: ['sqs:SendMessage'],
          Resource: this.queue.arn,
          Condition: { ArnEquals: { 'aws:SourceArn': rules.map((rule) => rule.arn) } },
        },
        {
          // Karpenter's reference template allows SQS as well; kept so that the queue is the one Karpenter is tested with.
          Sid: 'SqsSends',
          Effect: 'Allow',
          Principal: { Service: 'sqs.amazonaws.com' },
          Action: ['sqs:SendMessage'],
          Resource: this.queue.arn,
        },
        {
          Sid: 'DenyInsecureTransport',
          Effect: 'Deny',
          Principal: '*',
          Action: 'sqs:*',
          Resource: this.queue.arn,
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ]),
    });
  }
}
