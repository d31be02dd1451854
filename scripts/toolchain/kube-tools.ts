/**
 * The Kubernetes tools of the real-tool tests, built with Go into the cache (`<cache>/kube/bin`) by go-build.ts:
 * - Helm, to render the operator charts as Argo CD does (`helm template`);
 * - the Pod Security evaluator (`scripts/toolchain/go/pod-security/main.go`), a small command around Kubernetes' own
 *   Pod Security admission library (`k8s.io/pod-security-admission`) at the release of the clusters' Kubernetes, so a
 *   pod template is judged by the code the API server runs, not by our reading of the standard.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../command-line';
import { PROJECT_ROOT } from '../project-copy';
import { buildGoTool, requireGo } from './go-build';

/** What the installed Kubernetes tools offer. */
export interface KubeTools {
  readonly helm: string;
  readonly podSecurity: string;
}

const TOOLS = { helm: 'helm', podSecurity: 'pod-security' } as const;

/** Builds what is missing or changed and returns the tools. */
export async function installKubeTools(cache: string, log: (line: string) => void, root = PROJECT_ROOT): Promise<KubeTools> {
  const go = await requireGo(root);
  const tools = kubeToolsAt(cache);
  await buildGoTool(go, cache, root, TOOLS.helm, tools.helm, log);
  await buildGoTool(go, cache, root, TOOLS.podSecurity, tools.podSecurity, log);
  return tools;
}

/** The tools as built, without building: a missing one is a one-line error that says how to build it. */
export function installedKubeTools(cache: string): KubeTools {
  const tools = kubeToolsAt(cache);
  const missing = Object.values(tools).filter((binary) => !existsSync(binary));
  if (missing.length > 0) throw new UsageError(`${missing.join(', ')} of the pinned toolchain are not built: run 'npm run toolchain'`);
  return tools;
}

function kubeToolsAt(cache: string): KubeTools {
  const bin = join(cache, 'kube', 'bin');
  return { helm: join(bin, TOOLS.helm), podSecurity: join(bin, TOOLS.podSecurity) };
}
