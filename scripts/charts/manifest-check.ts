/**
 * `../shared/tools/manifest-check` over rendered charts, with the CRDs the charts install added to the pinned ones:
 * the checker reads its CRDs from `../schemas/crds` beside its own folder, so it runs from a temporary layout that
 * links the shared checker and schemas and adds one file of the charts' CRDs (those of kinds the pinned files lack).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { KubeObject } from '../policy/rule';
import { runCommand, tail } from '../run-command';
import { sharedCrds, sharedDir } from './render';

/** The checker's verdict: its last line, and every failure it printed. */
export interface ManifestCheckResult {
  readonly summary: string;
  readonly failures: readonly string[];
}

/** Key of a CRD's kinds: `group/version/Kind` for every version it serves. */
const crdKeys = (crd: KubeObject): string[] =>
  (crd['spec']?.versions ?? []).filter((v: any) => v.served).map((v: any) => `${crd['spec'].group}/${v.name}/${crd['spec'].names.kind}`);

/**
 * Validates `files` (name → objects) strictly against Kubernetes `kubeVersion` and the pinned CRDs plus `crds`.
 * Throws when the checker is missing or cannot run; returns its failures otherwise.
 */
export async function manifestCheck(kubeVersion: string, files: ReadonlyMap<string, readonly KubeObject[]>, crds: readonly KubeObject[]): Promise<ManifestCheckResult> {
  const shared = sharedDir();
  const tool = join(shared, 'tools', 'manifest-check');
  if (!existsSync(join(tool, 'check.mjs'))) throw new Error(`manifest-check is not at ${tool}: it lives in ../shared/tools/manifest-check beside the repository`);
  // The checker installs its pinned dependencies on first use.
  const install = await runCommand(join(tool, 'run'), ['--help'], { cwd: tool });
  if (install.code !== 0) throw new Error(`${join(tool, 'run')} could not install its dependencies:\n${tail(install.stderr || install.stdout)}`);

  const work = mkdtempSync(join(tmpdir(), 'driftless-manifest-check-'));
  try {
    mkdirSync(join(work, 'tools', 'manifest-check'), { recursive: true });
    symlinkSync(join(tool, 'check.mjs'), join(work, 'tools', 'manifest-check', 'check.mjs'));
    symlinkSync(join(tool, 'node_modules'), join(work, 'tools', 'manifest-check', 'node_modules'));
    mkdirSync(join(work, 'schemas', 'crds'), { recursive: true });
    symlinkSync(join(shared, 'schemas', 'kubernetes'), join(work, 'schemas', 'kubernetes'));
    for (const file of readdirSync(join(shared, 'schemas', 'crds'))) symlinkSync(join(shared, 'schemas', 'crds', file), join(work, 'schemas', 'crds', file));
    const pinned = new Set(sharedCrds().flatMap(crdKeys));
    const added = crds.filter((crd) => crd.kind === 'CustomResourceDefinition' && crdKeys(crd).some((key) => !pinned.has(key)));
    // Sorted after the pinned files, and only kinds they lack: the pinned schemas stay the judges of what they cover.
    writeFileSync(join(work, 'schemas', 'crds', 'zz-installed-by-charts.yaml'), added.map((crd) => stringify(crd)).join('---\n'));

    const inputs = join(work, 'manifests');
    mkdirSync(inputs);
    for (const [name, objects] of files) writeFileSync(join(inputs, `${name}.yaml`), objects.map((object) => stringify(object)).join('---\n'));
    const result = await runCommand(
      process.execPath,
      ['--preserve-symlinks', '--preserve-symlinks-main', join(work, 'tools', 'manifest-check', 'check.mjs'), '--k8s', kubeVersion, '--quiet', inputs],
      { cwd: work },
    );
    const lines = result.stdout.trimEnd().split('\n');
    const summary = lines.at(-1) ?? '';
    if (!/\d+ passed, \d+ failed$/.test(summary)) throw new Error(`manifest-check did not finish (exit ${result.code ?? 'by a signal'}):\n${tail(result.stderr || result.stdout)}`);
    const failures = result.stdout
      .split(/\n(?=FAIL )/)
      .filter((block) => block.startsWith('FAIL '))
      .map((block) => block.replace(join(inputs, ''), '').replace(/\n.*passed, \d+ failed$/, '').trim());
    if (result.code !== 0 && failures.length === 0) throw new Error(`manifest-check failed without naming a manifest:\n${tail(result.stdout + result.stderr)}`);
    return { summary, failures };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The object as the API server decodes it: a field set to null is a field not set. Helm templates print `key:` with
 * nothing after it where a value is empty (`annotations:`, `rules:`), which YAML reads as null; the API server stores
 * those as absent, and so must the strict check see them.
 */
export function withoutNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => withoutNulls(item)) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)])) as T;
}
