/**
 * Argo CD annotations, in one place because their meaning is a contract with the cluster:
 * a typo here silently turns data protection off.
 */

/** Objects that hold data: no sync may prune them and deleting their Application leaves them in place. */
export const KEEP_DATA = { 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false' } as const;

/**
 * Sync waves of the app of apps, in order: what everything relies on, then the operators (and so their
 * CRDs), then the custom resources they serve, then the pipelines that use those resources.
 */
export const SYNC_WAVES = { platform: 0, operators: 1, components: 2, pipelines: 3 } as const;

/** The annotation that puts an object into a sync wave. */
export const syncWave = (wave: number): Record<string, string> => ({ 'argocd.argoproj.io/sync-wave': String(wave) });
