import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dataRisks, quantity, retentionInWords } from './data-risk';
import { compareOutputs, diffKubernetes, diffStack, readKubernetesTree, stackConfig, type KubernetesObject, type SynthOutput } from './output-diff';
import { replacingArguments } from './replacement-attributes';
import { changedPaths, formatPath, lineDiff, pathLabels } from './value-diff';

describe('changed paths', () => {
  it('names nested keys, indices and keys that are not plain names', () => {
    const before = { spec: { kafka: { config: { 'log.retention.hours': 168, 'min.insync.replicas': 2 } }, volumes: [{ size: '1Gi' }, { size: '2Gi' }] } };
    const after = { spec: { kafka: { config: { 'log.retention.hours': 72, 'min.insync.replicas': 2 } }, volumes: [{ size: '1Gi' }, { size: '3Gi' }] } };
    expect(changedPaths(before, after).map(formatPath)).toEqual(['spec.kafka.config["log.retention.hours"]', 'spec.volumes[1].size']);
  });

  it('reports an array whose length changed as a whole, and added or removed keys', () => {
    expect(changedPaths({ acls: [1, 2, 3], a: 1 }, { acls: [1, 3], b: 2 }).map(formatPath)).toEqual(['a', 'acls', 'b']);
    expect(changedPaths({ same: [1, { x: 2 }] }, { same: [1, { x: 2 }] })).toEqual([]);
  });

  it('looks inside strings that hold JSON on both sides', () => {
    const policy = (resource: string) => JSON.stringify({ Statement: [{ Effect: 'Allow', Resource: [resource] }] });
    const before = { policy: policy('arn:aws:s3:::a'), name: 'x' };
    const after = { policy: policy('arn:aws:s3:::b'), name: 'y' };
    expect(pathLabels(before, after, changedPaths(before, after))).toEqual(['name', 'policy › Statement[0].Resource[0]']);
  });
});

describe('compact line diff', () => {
  it('shows only changed lines with two lines of context, in hunks', () => {
    const before = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].join('\n');
    const after = ['a', 'B', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'J'].join('\n');
    expect(lineDiff(before, after)).toEqual(['@@ -1,4 +1,4 @@', ' a', '-b', '+B', ' c', ' d', '@@ -8,3 +8,3 @@', ' h', ' i', '-j', '+J']);
    expect(lineDiff('same\n', 'same\n')).toEqual([]);
  });

  it('shows an inserted block as additions only', () => {
    expect(lineDiff('a\nb\nc', 'a\nb\nx\ny\nc')).toEqual(['@@ -1,3 +1,5 @@', ' a', ' b', '+x', '+y', ' c']);
  });
});

describe('arguments that force replacement', () => {
  it('match through indices and whole blocks, and stop at a JSON document', () => {
    expect(replacingArguments('aws_eks_node_group', 'launch_template[0].name')).toEqual(['launch_template.name']);
    expect(replacingArguments('aws_eks_cluster', 'kubernetes_network_config')).toEqual([
      'kubernetes_network_config.ip_family',
      'kubernetes_network_config.service_ipv4_cidr',
    ]);
    expect(replacingArguments('aws_eks_cluster', 'version')).toEqual([]);
    expect(replacingArguments('aws_iam_role', 'name')).toEqual(['name']);
    expect(replacingArguments('aws_iam_role', 'assume_role_policy › Statement[0].Principal')).toEqual([]);
    expect(replacingArguments('aws_unknown_thing', 'name')).toEqual([]);
  });

  it("update the node groups' taints in place, and replace Karpenter's queue, rules and tag only when what names them changes", () => {
    expect(replacingArguments('aws_eks_node_group', 'taint')).toEqual([]);
    expect(replacingArguments('aws_sqs_queue', 'name')).toEqual(['name']);
    expect(replacingArguments('aws_sqs_queue', 'message_retention_seconds')).toEqual([]);
    expect(replacingArguments('aws_sqs_queue_policy', 'policy › Statement[0].Condition')).toEqual([]);
    expect(replacingArguments('aws_cloudwatch_event_rule', 'event_pattern')).toEqual([]);
    expect(replacingArguments('aws_cloudwatch_event_target', 'rule')).toEqual(['rule']);
    expect(replacingArguments('aws_ec2_tag', 'value')).toEqual([]);
    expect(replacingArguments('aws_ec2_tag', 'resource_id')).toEqual(['resource_id']);
  });

  it('replace a registry whose name or key changes, as a data risk, but not one whose scanning changes', () => {
    const repository = (name: string, kmsKey: string, scanOnPush = true) =>
      stackConfig({ resource: { aws_ecr_repository: { r: { name, encryption_configuration: [{ encryption_type: 'KMS', kms_key: kmsKey }], image_scanning_configuration: { scan_on_push: scanOnPush }, lifecycle: { prevent_destroy: true } } } } });
    const base = repository('driftless-blue/spark', 'key-a');
    for (const [head, forcedBy] of [[repository('driftless-green/spark', 'key-a'), ['name']], [repository('driftless-blue/spark', 'key-b'), ['encryption_configuration[0].kms_key']]] as const) {
      const terraform = diffStack('blue-cluster', base, head);
      expect(terraform.map((change) => [change.address, change.action, change.forcedBy])).toEqual([['aws_ecr_repository.r', 'replace', forcedBy]]);
      expect(dataRisks({ env: 'blue', terraform, kubernetes: [] })).toEqual([
        expect.objectContaining({ action: 'replace', subject: 'aws_ecr_repository.r', detail: expect.stringMatching(/^the registry and every image in it go .*; it has lifecycle\.prevent_destroy/) }),
      ]);
    }
    const rescanned = diffStack('blue-cluster', base, repository('driftless-blue/spark', 'key-a', false));
    expect(rescanned.map((change) => [change.action, change.forcedBy])).toEqual([['update', []]]);
    expect(dataRisks({ env: 'blue', terraform: rescanned, kubernetes: [] })).toEqual([]);
  });
});

describe('Terraform differences of a stack', () => {
  const bucket = (name: string) => ({ '//': { metadata: { path: 'blue-data-lake/raw/bucket' } }, bucket: name });
  const stack = (name: string, extra: Record<string, unknown> = {}) =>
    stackConfig({
      '//': { metadata: { version: '0.21.0' } },
      resource: {
        aws_s3_bucket: { raw: bucket(name) },
        aws_s3_bucket_versioning: { raw_versioning: { bucket: '${aws_s3_bucket.raw.id}', versioning_configuration: { status: 'Enabled' } } },
        aws_iam_role_policy: { reader: { name: 'reader', role: 'r', policy: `{"Resource":"arn:aws:s3:::${name}"}` } },
        aws_s3_bucket_public_access_block: { raw_block: { bucket: '${aws_s3_bucket.raw.bucket}', block_public_acls: true } },
        ...extra,
      },
      data: { aws_vpc: { vpc: { filter: [{ name: 'tag:Name', values: ['driftless-blue'] }] } } },
    });

  it('replaces a renamed bucket and, through the reference, what attaches to it', () => {
    const changes = diffStack('blue-data-lake', stack('raw-a'), stack('raw-b'));
    expect(changes.map((change) => [change.address, change.action, change.forcedBy])).toEqual([
      ['aws_iam_role_policy.reader', 'update', []],
      ['aws_s3_bucket.raw', 'replace', ['bucket']],
      ['aws_s3_bucket_public_access_block.raw_block', 'replace', ['bucket']],
      ['aws_s3_bucket_versioning.raw_versioning', 'replace', ['bucket']],
    ]);
    expect(changes[3]?.changes).toEqual([{ path: 'bucket', via: 'aws_s3_bucket.raw' }]);
    expect(changes[0]?.changes).toEqual([{ path: 'policy › Resource' }]);
  });

  it('ignores cdktf metadata, and does not follow a reference to an argument that stays the same', () => {
    const base = stack('raw', { aws_kms_key: { key: { description: 'old', key_usage: 'ENCRYPT_DECRYPT' } } });
    const head = stack('raw', { aws_kms_key: { key: { description: 'old', key_usage: 'SIGN_VERIFY' } } });
    const changes = diffStack('blue-data-lake', base, head);
    expect(changes.map((change) => `${change.action} ${change.address}`)).toEqual(['replace aws_kms_key.key']);
    const alias = { aws_kms_alias: { alias: { name: 'alias/x', target_key_id: '${aws_kms_key.key.description}' } } };
    expect(diffStack('s', stack('raw', { ...alias, aws_kms_key: { key: { description: 'old', key_usage: 'A' } } }), stack('raw', { ...alias, aws_kms_key: { key: { description: 'old', key_usage: 'B' } } })).map((c) => c.address)).toEqual(['aws_kms_key.key']);
  });

  it('reports added and destroyed resources, and never replaces a data source', () => {
    const base = stack('raw', { aws_kms_key: { old: { description: 'gone', lifecycle: { prevent_destroy: true } } } });
    const head = stackConfig({ resource: { aws_s3_bucket: { raw: bucket('raw') }, aws_kms_key: { new: { description: 'new' } } }, data: { aws_vpc: { vpc: { cidr_block: '10.0.0.0/16' } } } });
    const changes = diffStack('s', base, head);
    expect(changes.map((change) => `${change.action} ${change.address}`)).toEqual([
      'delete aws_iam_role_policy.reader',
      'create aws_kms_key.new',
      'delete aws_kms_key.old',
      'delete aws_s3_bucket_public_access_block.raw_block',
      'delete aws_s3_bucket_versioning.raw_versioning',
      'update data.aws_vpc.vpc',
    ]);
    expect(changes.find((change) => change.address === 'aws_kms_key.old')?.preventDestroy).toBe(true);
  });
});

describe('data risks', () => {
  const object = (kind: string, name: string, value: Record<string, unknown>, namespace = 'kafka'): KubernetesObject => ({
    id: `v1/${kind}/${namespace}/${name}`,
    apiVersion: 'v1',
    kind,
    namespace,
    name,
    file: `${kind.toLowerCase()}-${name}.yaml`,
    value: { apiVersion: 'v1', kind, metadata: { name, namespace }, ...value },
  });
  const risks = (before: KubernetesObject[], after: KubernetesObject[]) =>
    dataRisks({ env: 'blue', terraform: [], kubernetes: diffKubernetes(new Map(before.map((o) => [o.id, o])), new Map(after.map((o) => [o.id, o]))) });
  const pool = (size: string, replicas = 3) => object('KafkaNodePool', 'brokers', { spec: { replicas, storage: { type: 'jbod', volumes: [{ id: 0, size }] } } });

  it('flags a node pool whose volumes or brokers shrink, not one that grows', () => {
    expect(risks([pool('500Gi')], [pool('200Gi')]).map((risk) => risk.detail)).toEqual([
      '`spec.storage.volumes[0].size` "500Gi" → "200Gi": volumes cannot shrink; a smaller one starts empty',
    ]);
    expect(risks([pool('500Gi', 3)], [pool('500Gi', 2)])[0]?.detail).toContain('`spec.replicas` 3 → 2');
    expect(risks([pool('500Gi')], [pool('1Ti')])).toEqual([]);
  });

  it("flags a stream whose checkpoint moves, not one whose other settings change", () => {
    const stream = (checkpointUri: string, triggerSeconds = 10) =>
      object('SparkApplication', 'clicks', { spec: { arguments: ['--job', JSON.stringify({ pipeline: 'clicks', triggerSeconds, checkpointUri })] } }, 'pipelines');
    const moved = risks([stream('s3a://bucket/clicks/')], [stream('hdfs://lake/driftless/checkpoints/clicks')]);
    expect(moved.map((risk) => [risk.action, risk.subject])).toEqual([['replace', 'SparkApplication pipelines/clicks']]);
    expect(moved[0]?.detail).toContain('s3a://bucket/clicks/ → hdfs://lake/driftless/checkpoints/clicks');
    expect(moved[0]?.detail).toContain('counts again');
    expect(risks([stream('hdfs://lake/a')], [stream('hdfs://lake/a', 20)])).toEqual([]);
  });

  it('flags fewer partitions and shorter retention of a topic', () => {
    const topic = (partitions: number, retention: number) => object('KafkaTopic', 'clicks', { spec: { partitions, config: { 'retention.ms': retention } } });
    expect(risks([topic(6, 1000)], [topic(3, 1000)])[0]?.detail).toContain('Kafka cannot remove partitions');
    expect(risks([topic(6, 1000)], [topic(6, 500)])[0]?.detail).toContain('records older than the new retention are deleted');
    expect(risks([topic(6, 1000)], [topic(12, -1)])).toEqual([]);
  });

  it('shows a shorter retention in words beside the raw values', () => {
    const topic = (retention: number | string) => object('KafkaTopic', 'clicks', { spec: { config: { 'retention.ms': retention } } });
    expect(risks([topic(604800000)], [topic(259200000)]).map((risk) => risk.detail)).toEqual([
      '`spec.config["retention.ms"]` 604800000 (7 days) → 259200000 (3 days): records older than the new retention are deleted',
    ]);
    expect(risks([topic(-1)], [topic('90000000')])[0]?.detail).toBe(
      '`spec.config["retention.ms"]` -1 (no limit) → "90000000" (25 hours): records older than the new retention are deleted',
    );
    const kafka = (hours: number) => object('Kafka', 'events', { spec: { kafka: { config: { 'log.retention.hours': hours, 'log.retention.bytes': hours * 1000 } } } });
    expect(risks([kafka(168)], [kafka(36)]).map((risk) => risk.detail)).toEqual([
      '`spec.kafka.config["log.retention.bytes"]` 168000 → 36000: records older than the new retention are deleted',
      '`spec.kafka.config["log.retention.hours"]` 168 (7 days) → 36 (36 hours): records older than the new retention are deleted',
    ]);
  });

  it('words a time retention in the largest unit that divides it exactly, so that nothing is rounded', () => {
    const words = (key: string, values: readonly unknown[]) => values.map((value) => retentionInWords(key, value));
    expect(words('retention.ms', [86_400_000, 604_800_000, 90_000_000, 3_600_000, 5_400_000, 60_000, 90_000, 1_000])).toEqual([
      '1 day', '7 days', '25 hours', '1 hour', '90 minutes', '1 minute', '90 seconds', '1 second',
    ]);
    // Kafka writes -1 for no limit; a sub-second or non-positive value is clearest as the raw number alone.
    expect(words('retention.ms', [-1, '-1', 1_500, 0, 1.5, 'weekly', undefined])).toEqual(['no limit', 'no limit', undefined, undefined, undefined, undefined, undefined]);
    expect(words('local.retention.ms', ['172800000'])).toEqual(['2 days']);
    expect(words('log.retention.ms', [3_600_000])).toEqual(['1 hour']);
    expect(words('log.retention.hours', [168, 25, 1])).toEqual(['7 days', '25 hours', '1 hour']);
    expect(words('log.retention.minutes', [1_440, 90, 1])).toEqual(['1 day', '90 minutes', '1 minute']);
    // Sizes and other numbers are not durations.
    expect(words('retention.bytes', [86_400_000])).toEqual([undefined]);
    expect(words('partitions', [86_400_000])).toEqual([undefined]);
  });

  it('flags removed data objects and data namespaces, with a hint at a rename', () => {
    const topic = (name: string) => object('KafkaTopic', name, { metadata: { name, namespace: 'kafka', annotations: { 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false' } } });
    const [removed] = risks([topic('clicks.dlq')], [topic('clicks-dlq')]);
    expect(removed).toMatchObject({ action: 'remove', subject: 'KafkaTopic kafka/clicks.dlq' });
    expect(removed?.detail).toContain('Prune=false');
    expect(removed?.detail).toContain('KafkaTopic kafka/clicks-dlq is added: a rename starts empty');
    expect(risks([object('Namespace', 'hdfs', {}, '')], [])[0]?.subject).toBe('Namespace hdfs');
    expect(risks([object('Namespace', 'spark-operator', {}, ''), object('ConfigMap', 'x', {})], [])).toEqual([]);
    expect(risks([object('PersistentVolumeClaim', 'data-0', {}, 'hdfs')], [])[0]?.detail).toContain('releases its volume');
  });

  it('reads Kubernetes quantities', () => {
    expect(quantity('500Gi')).toBe(500 * 2 ** 30);
    expect(quantity('1T')).toBe(1e12);
    expect(quantity('1.5Ti')).toBe(1.5 * 2 ** 40);
    expect(quantity('lots')).toBeUndefined();
  });
});

describe('environments of a comparison', () => {
  it('come in the deploy order given, then any others by name, from both sides', () => {
    const output = (stackEnvs: readonly string[], renderedEnvs: readonly string[]): SynthOutput => ({
      stacks: new Map(stackEnvs.map((env) => [`${env}-network`, new Map()])),
      rendered: new Map(renderedEnvs.map((env) => [env, { objects: new Map(), files: new Map(), problems: [] }])),
    });
    const known = ['lab', 'trial', 'live-eu'];
    const diffs = compareOutputs(output(['qa', ...known.slice(1).reverse()], []), output([], ['alpha', known[0]!]), known);
    expect(diffs.map((diff) => diff.env)).toEqual([...known, 'alpha', 'qa']);
    expect(diffs.every((diff) => diff.terraform.length === 0 && diff.kubernetes.length === 0)).toBe(true);
  });
});

describe('reading a rendered folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'driftless-output-diff-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads every object of multi-document files and reports files that are not objects', () => {
    mkdirSync(join(dir, 'kafka'));
    writeFileSync(join(dir, 'kafka', 'two.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: kafka\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: kafka\n');
    writeFileSync(join(dir, 'broken.yaml'), 'apiVersion: v1\nkind: [\n');
    writeFileSync(join(dir, 'nameless.yaml'), 'apiVersion: v1\nkind: ConfigMap\n');
    const tree = readKubernetesTree(dir);
    expect([...tree.objects.keys()]).toEqual(['v1/ConfigMap/kafka/a', 'v1/Namespace//kafka']);
    expect(tree.problems).toEqual([expect.stringMatching(/^broken\.yaml: not valid YAML/), 'nameless.yaml: not a Kubernetes object (apiVersion, kind and metadata.name are required)']);
    expect([...tree.files.keys()]).toEqual(['broken.yaml', 'kafka/two.yaml', 'nameless.yaml']);
  });
});
