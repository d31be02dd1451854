/**
 * Argo CD annotations, in one place because their meaning is a contract with the cluster:
 * a typo here silently turns data protection off.
 */

/** Objects that hold data: no sync may prune them and deleting their Application leaves them in place. */
export const KEEP_DATA = { 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false' } as const;

/**
 * Sync waves of the app of apps, in order: the project, the CRDs that the platform folder itself uses (Karpenter's
 * NodePools and EC2NodeClass sit beside the namespaces), what everything relies on, then the operators (and so their
 * CRDs), then the custom resources they serve, then the pipelines that use those resources.
 */
export const SYNC_WAVES = { project: -2, crds: -1, platform: 0, operators: 1, components: 2, pipelines: 3 } as const;

/** The annotation that puts an object into a sync wave. */
export const syncWave = (wave: number): Record<string, string> => ({ 'argocd.argoproj.io/sync-wave': String(wave) });
