/**
 * Rules for Argo CD: objects that hold data, and the Applications that sync them, are never pruned or deleted
 * by a sync; every Application repairs drift; Helm sources are pinned.
 */
import type { KubeObject, ManifestRule } from './rule';

/**
 * Kinds whose objects hold data (or whose deletion deletes data): a sync must never prune or delete them. Deleting a
 * Karpenter NodePool or EC2NodeClass terminates every node launched from it, with the brokers and datanodes on them.
 */
export const DATA_KINDS = ['Namespace', 'StorageClass', 'PersistentVolumeClaim', 'PersistentVolume', 'Kafka', 'KafkaNodePool', 'KafkaTopic', 'HdfsCluster', 'ZookeeperCluster', 'ZookeeperZnode', 'NodePool', 'EC2NodeClass'];

const SYNC_OPTIONS = 'argocd.argoproj.io/sync-options';

/** Whether an object's sync options say Prune=false and Delete=false. */
export function keepsData(object: KubeObject): boolean {
  const options = (object.metadata.annotations?.[SYNC_OPTIONS] ?? '').split(',').map((o) => o.trim());
  return options.includes('Prune=false') && options.includes('Delete=false');
}

export const dataObjectsKept: ManifestRule = {
  id: 'DL-ARGO-001',
  severity: 'error',
  target: 'manifest',
  kinds: DATA_KINDS,
  description: `Objects that hold data (${DATA_KINDS.join(', ')}) carry the sync options Prune=false,Delete=false.`,
  hint: 'Add annotations: KEEP_DATA (k8s/argocd.ts) to the object.',
  check: (object) => (keepsData(object) ? [] : [`${object.kind} ${object.metadata.name} can be pruned or deleted by an Argo CD sync (${SYNC_OPTIONS} lacks Prune=false,Delete=false)`]),
};

const CASCADE_FINALIZER = /^resources-finalizer\.argocd\.argoproj\.io(\/.*)?$/;

export const dataApplicationsKept: ManifestRule = {
  id: 'DL-ARGO-002',
  severity: 'error',
  target: 'manifest',
  kinds: ['Application'],
  description: 'An Application that syncs a folder holding data carries Prune=false,Delete=false and no cascading-delete finalizer.',
  hint: "Render the folder's Application with holdsData: true (AppsChart), which adds KEEP_DATA and leaves out the resources finalizer.",
  check: (application, { manifests }) => {
    const sources: Array<Record<string, any>> = [application.spec?.source, ...(Array.isArray(application.spec?.sources) ? application.spec.sources : [])].filter(Boolean);
    const folders = sources.map((s) => s.path).filter((p): p is string => typeof p === 'string' && p !== '');
    const data = manifests.filter(({ file, object }) => DATA_KINDS.includes(object.kind) && folders.some((folder) => file.startsWith(`${folder.replace(/\/$/, '')}/`)));
    if (data.length === 0) return [];
    const example = `${data[0]!.object.kind} ${data[0]!.object.metadata.name}`;
    const finalizers = (application.metadata.finalizers ?? []).filter((f) => CASCADE_FINALIZER.test(f));
    return [
      ...(keepsData(application) ? [] : [`Application ${application.metadata.name} syncs objects that hold data (e.g. ${example}) but lacks Prune=false,Delete=false`]),
      ...(finalizers.length === 0 ? [] : [`Application ${application.metadata.name} syncs objects that hold data (e.g. ${example}) but deleting it cascades (${finalizers.join(', ')})`]),
    ];
  },
};

export const selfHeal: ManifestRule = {
  id: 'DL-ARGO-003',
  severity: 'error',
  target: 'manifest',
  kinds: ['Application'],
  description: 'Every Application syncs automatically with self-heal, so drift is repaired and not just reported.',
  hint: 'Set spec.syncPolicy.automated: { prune: true, selfHeal: true }.',
  check: (application) =>
    application.spec?.syncPolicy?.automated?.selfHeal === true ? [] : [`Application ${application.metadata.name} does not sync automatically with self-heal`],
};

const EXACT_VERSION = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

export const helmSourcesPinned: ManifestRule = {
  id: 'DL-ARGO-004',
  severity: 'error',
  target: 'manifest',
  kinds: ['Application'],
  description: 'Every Helm chart an Application installs is pinned to an exact version.',
  hint: 'Set targetRevision from OPERATOR_CHARTS in k8s/versions.ts to an exact release.',
  check: (application) => {
    const sources: Array<Record<string, any>> = [application.spec?.source, ...(Array.isArray(application.spec?.sources) ? application.spec.sources : [])].filter(Boolean);
    return sources
      .filter((s) => typeof s.chart === 'string' && !(typeof s.targetRevision === 'string' && EXACT_VERSION.test(s.targetRevision)))
      .map((s) => `Application ${application.metadata.name} installs chart ${s.chart} at ${JSON.stringify(s.targetRevision ?? null)}, not an exact version`);
  },
};

/** The Argo CD rules. */
export const ARGOCD_RULES: readonly ManifestRule[] = [dataObjectsKept, dataApplicationsKept, selfHeal, helmSourcesPinned];
