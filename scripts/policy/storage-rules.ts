/** Rules for storage: the StorageClasses this repository defines encrypt volumes and keep them when claims go. */
import type { ManifestOutput, ManifestRule } from './rule';

/** StorageClasses of the environment that keep the volume when its claim is deleted. */
export function retainingStorageClasses(manifests: readonly ManifestOutput[]): Set<string> {
  return new Set(
    manifests
      .filter(({ object }) => object.kind === 'StorageClass' && object.reclaimPolicy === 'Retain')
      .map(({ object }) => object.metadata.name),
  );
}

/** Why a volume's StorageClass does not keep its data, or undefined. */
export function storageClassProblem(storageClass: unknown, manifests: readonly ManifestOutput[]): string | undefined {
  if (typeof storageClass !== 'string' || storageClass === '') return "uses the cluster's default StorageClass, whose volumes are deleted with their claims";
  return retainingStorageClasses(manifests).has(storageClass) ? undefined : `uses the StorageClass ${storageClass}, which is not a StorageClass of this environment with reclaimPolicy Retain`;
}

export const storageClassKeepsData: ManifestRule = {
  id: 'DL-STORAGE-001',
  severity: 'error',
  target: 'manifest',
  kinds: ['StorageClass'],
  description: 'Every StorageClass encrypts its volumes and keeps them when their claim is deleted (reclaimPolicy Retain).',
  hint: "Set reclaimPolicy: 'Retain' and parameters.encrypted: 'true'.",
  check: (storageClass) => [
    ...(storageClass.reclaimPolicy === 'Retain' ? [] : [`StorageClass ${storageClass.metadata.name} deletes volumes with their claims (reclaimPolicy ${storageClass.reclaimPolicy ?? 'Delete'})`]),
    ...(String(storageClass.parameters?.encrypted) === 'true' ? [] : [`StorageClass ${storageClass.metadata.name} does not encrypt its volumes (parameters.encrypted is not 'true')`]),
  ],
};

/** The storage rules. */
export const STORAGE_RULES: readonly ManifestRule[] = [storageClassKeepsData];
