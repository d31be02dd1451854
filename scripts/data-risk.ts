/**
 * Which changes of a review destroy or shrink data: what a reviewer must see first. Pure functions over
 * the differences that output-diff.ts finds.
 */
import { NAMESPACES } from '../environments/naming';
import { jobOfArguments } from '../pipelines/job-spec';
import { objectLabel, type EnvironmentDiff, type KubernetesChange, type TerraformChange } from './output-diff';
import { formatPath, valueAt, type Path } from './value-diff';

/** One change that loses or shrinks data. */
export interface DataRisk {
  readonly side: 'terraform' | 'kubernetes';
  readonly action: 'destroy' | 'replace' | 'remove' | 'shrink';
  /** The resource address or the object (`KafkaTopic kafka/orders.dlq`). */
  readonly subject: string;
  /** The stack (Terraform) or the file (Kubernetes) it is in. */
  readonly where: string;
  /** What is lost, and anything that softens or blocks it. */
  readonly detail: string;
}

/** Terraform resource types that hold data, or without which data cannot be read. */
export const DATA_RESOURCES: Readonly<Record<string, string>> = {
  aws_s3_bucket: 'the bucket and every object in it are deleted; a new, empty bucket takes its place',
  aws_kms_key: 'the key is scheduled for deletion: everything encrypted with it becomes unreadable',
  aws_eks_cluster: 'the cluster and everything running in it (Kafka, HDFS and their volumes) are deleted',
  aws_ecr_repository:
    'the registry and every image in it go (Terraform stops while it holds images, since force_delete is off); a pod whose image is gone cannot start until the deploy workflow pushes it again',
};

/** Kinds whose objects are, or own, stored data. */
export const DATA_KINDS: ReadonlySet<string> = new Set([
  'Kafka',
  'KafkaNodePool',
  'KafkaTopic',
  'HdfsCluster',
  'ZookeeperCluster',
  'ZookeeperZnode',
  'PersistentVolumeClaim',
]);

/** Namespaces whose removal deletes the data kept in them. */
export const DATA_NAMESPACES: ReadonlySet<string> = new Set([NAMESPACES.kafka, NAMESPACES.hdfs, NAMESPACES.monitoring, NAMESPACES.pipelines]);

/** The data risks of one environment's changes: Terraform first, then Kubernetes, each in report order. */
export function dataRisks(diff: EnvironmentDiff): DataRisk[] {
  return [...diff.terraform.flatMap(terraformRisk), ...diff.kubernetes.flatMap((change) => kubernetesRisks(change, diff.kubernetes))];
}

function terraformRisk(change: TerraformChange): DataRisk[] {
  const loss = DATA_RESOURCES[change.type];
  if (change.mode !== 'managed' || loss === undefined || (change.action !== 'delete' && change.action !== 'replace')) return [];
  const cause = change.action === 'replace' ? ` (forced by ${change.forcedBy.map((path) => `\`${path}\``).join(', ')})` : '';
  const guard = change.preventDestroy ? '; it has lifecycle.prevent_destroy, so terraform refuses this plan until that is lifted' : '';
  return [{ side: 'terraform', action: change.action === 'delete' ? 'destroy' : 'replace', subject: change.address, where: change.stack, detail: `${loss}${cause}${guard}` }];
}

function kubernetesRisks(change: KubernetesChange, all: readonly KubernetesChange[]): DataRisk[] {
  const subject = objectLabel(change);
  const risk = (action: DataRisk['action'], detail: string): DataRisk => ({ side: 'kubernetes', action, subject, where: change.file, detail });
  if (change.action === 'remove') {
    const holdsData = DATA_KINDS.has(change.kind) || (change.kind === 'Namespace' && DATA_NAMESPACES.has(change.name));
    if (!holdsData) return [];
    const kept = syncOptions(change.before).includes('Prune=false')
      ? '; Argo CD does not prune it (Prune=false), so it stays, unmanaged, until someone deletes it'
      : '; Argo CD deletes it on the next sync';
    const successor = all.find((other) => other.action === 'add' && other.kind === change.kind && other.namespace === change.namespace);
    const renamed = successor === undefined ? '' : `; ${objectLabel(successor)} is added: a rename starts empty`;
    return [risk('remove', `${removalLoss(change)}${kept}${renamed}`)];
  }
  if (change.action === 'change' && change.kind === 'SparkApplication') {
    const [before, after] = [checkpointOf(change.before), checkpointOf(change.after)];
    if (before === after || before === undefined) return [];
    return [
      risk(
        'replace',
        `the stream's checkpoint moves (${before} → ${after ?? 'none'}): it starts again with no offsets and no state, reads its topic from the earliest records kept and counts again what it has already counted; copy the checkpoint to the new place before this syncs`,
      ),
    ];
  }
  if (change.action !== 'change' || !(DATA_KINDS.has(change.kind))) return [];
  return change.steps.flatMap((path) => {
    const shrink = shrinkage(change.kind, path, valueAt(change.before, path), valueAt(change.after, path));
    return shrink === undefined ? [] : [risk('shrink', `\`${formatPath(path)}\` ${shrink}`)];
  });
}

/** The checkpoint of a streaming SparkApplication: `checkpointUri` of the job it passes (`--job <json>`). */
function checkpointOf(value: Record<string, unknown> | undefined): string | undefined {
  const uri = jobOfArguments(valueAt(value, ['spec', 'arguments']))?.checkpointUri;
  return typeof uri === 'string' ? uri : undefined;
}

function removalLoss(change: KubernetesChange): string {
  switch (change.kind) {
    case 'Namespace':
      return 'deleting the namespace deletes everything in it, volumes included';
    case 'KafkaTopic':
      return 'deleting the topic deletes its records';
    case 'PersistentVolumeClaim':
      return 'deleting the claim releases its volume';
    default:
      return `deleting the ${change.kind} deletes its data`;
  }
}

function syncOptions(value: Record<string, unknown> | undefined): string {
  const options = valueAt(value, ['metadata', 'annotations', 'argocd.argoproj.io/sync-options']);
  return typeof options === 'string' ? options : '';
}

// The unit of each time retention, in milliseconds.
const TIME_RETENTION_KEYS: Readonly<Record<string, number>> = {
  'retention.ms': 1,
  'local.retention.ms': 1,
  'log.retention.ms': 1,
  'log.retention.minutes': 60_000,
  'log.retention.hours': 3_600_000,
};

const RETENTION_KEYS = new Set([
  ...Object.keys(TIME_RETENTION_KEYS),
  'retention.bytes',
  'local.retention.bytes',
  'log.retention.bytes',
]);

const DURATION_UNITS = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1_000],
] as const;

/**
 * A Kafka time retention (`retention.ms`, `log.retention.hours`, ...) in words, to show beside the raw value:
 * `7 days`, `25 hours`, `no limit` for -1. The largest unit that divides the value exactly, so the words never
 * round: a reviewer compares them, and "1 day" for 25 hours would hide a change. Undefined when `key` is not a
 * time retention or the value is not a positive whole number of seconds (the raw value says it best then).
 */
export function retentionInWords(key: string, value: unknown): string | undefined {
  const unit = TIME_RETENTION_KEYS[key];
  const number = retention(value);
  if (unit === undefined || number === undefined) return undefined;
  if (number === Number.POSITIVE_INFINITY) return 'no limit';
  const ms = number * unit;
  if (!Number.isSafeInteger(ms) || ms <= 0) return undefined;
  const [name, size] = DURATION_UNITS.find(([, size]) => ms % size === 0) ?? [];
  if (name === undefined || size === undefined) return undefined;
  const count = ms / size;
  return `${count} ${name}${count === 1 ? '' : 's'}`;
}

/** A value as the report prints it: raw, and a retention in words beside it. */
function shown(key: string, value: unknown): string {
  const words = retentionInWords(key, value);
  return `${JSON.stringify(value)}${words === undefined ? '' : ` (${words})`}`;
}

/** Why a change of `path` from `before` to `after` shrinks data, or undefined. */
function shrinkage(kind: string, path: Path, before: unknown, after: unknown): string | undefined {
  const key = path[path.length - 1];
  if (typeof key !== 'string') return undefined;
  const transition = `${shown(key, before)} → ${shown(key, after)}`;
  if (RETENTION_KEYS.has(key)) {
    const [old, next] = [retention(before), retention(after)];
    if (old !== undefined && next !== undefined && next < old) return `${transition}: records older than the new retention are deleted`;
    return undefined;
  }
  if (kind === 'KafkaTopic' && key === 'partitions' && path.length === 2) {
    if (typeof before === 'number' && typeof after === 'number' && after < before) {
      return `${transition}: Kafka cannot remove partitions (the Topic Operator refuses); recreating the topic loses its records`;
    }
    return undefined;
  }
  if (kind !== 'KafkaTopic' && key === 'replicas' && typeof before === 'number' && typeof after === 'number' && after < before) {
    return `${transition}: fewer nodes, and the volumes of the removed ones`;
  }
  if (['size', 'capacity', 'storage'].includes(key)) {
    const [old, next] = [quantity(before), quantity(after)];
    if (old !== undefined && next !== undefined && next < old) return `${transition}: volumes cannot shrink; a smaller one starts empty`;
  }
  return undefined;
}

/** A retention setting as a number; -1 (no limit) as infinity. */
function retention(value: unknown): number | undefined {
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : undefined;
  return number === -1 ? Number.POSITIVE_INFINITY : number;
}

const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
};

/** A Kubernetes quantity (`500Gi`, `1T`, `100`) in bytes, or undefined. */
export function quantity(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/.exec(value);
  if (match === null) return undefined;
  return Number(match[1]) * (UNITS[match[2] ?? ''] ?? 1);
}
