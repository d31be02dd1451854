/**
 * Reads what `npm run synth` wrote: `cdktf.out/stacks/<env>-<stack>/cdk.tf.json` and `k8s/rendered/<env>/**.yaml`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { RENDERED_ROOT, STACKS, stackName } from '../../environments/naming';
import type { EnvironmentName } from '../../environments/schema';
import type { KubeObject, ManifestOutput, StackOutput, SynthesizedOutput, TerraformJson } from './rule';

/** Where cdktf writes the stacks, relative to the repository root. */
export const STACKS_ROOT = 'cdktf.out/stacks';

/** The output is missing or unreadable: the fix is to synthesize it. */
export class MissingOutputError extends Error {
  constructor(readonly missing: readonly string[]) {
    super(`no complete synthesized output: ${missing.join('; ')}. Run \`npm run synth\` first.`);
    this.name = 'MissingOutputError';
  }
}

/**
 * Reads the stacks and manifests of the given environments under `root`.
 * @throws MissingOutputError when a stack or an environment's rendered folder is missing or unreadable.
 */
export function readSynthesizedOutput(root: string, environments: readonly EnvironmentName[]): SynthesizedOutput {
  const missing: string[] = [];
  const stacks: StackOutput[] = [];
  const manifests: ManifestOutput[] = [];
  for (const env of environments) {
    for (const kind of STACKS) {
      const name = stackName(env, kind);
      const file = `${STACKS_ROOT}/${name}/cdk.tf.json`;
      const path = join(root, file);
      if (!existsSync(path)) {
        missing.push(`${file} does not exist`);
        continue;
      }
      try {
        stacks.push({ environment: env, name, file, json: JSON.parse(readFileSync(path, 'utf8')) as TerraformJson });
      } catch (error) {
        missing.push(`${file} is not JSON (${(error as Error).message})`);
      }
    }
    const folder = join(root, RENDERED_ROOT, env);
    if (!existsSync(folder)) {
      missing.push(`${RENDERED_ROOT}/${env} does not exist`);
      continue;
    }
    for (const path of yamlFiles(folder)) {
      const file = relative(root, path).split(sep).join('/');
      const documents = parseAllDocuments(readFileSync(path, 'utf8'), { version: '1.1' });
      for (const document of Array.isArray(documents) ? documents : [documents]) {
        if (document.errors.length > 0) {
          missing.push(`${file} is not valid YAML (${document.errors[0]!.message})`);
          continue;
        }
        const object = document.toJS() as KubeObject | null;
        if (object === null) continue;
        if (typeof object !== 'object' || typeof object.kind !== 'string' || typeof object.metadata?.name !== 'string') {
          missing.push(`${file} is not a Kubernetes object with kind and metadata.name`);
          continue;
        }
        manifests.push({ environment: env, file, object });
      }
    }
  }
  if (missing.length > 0) throw new MissingOutputError(missing);
  return { stacks, manifests };
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) return yamlFiles(path);
      return /\.ya?ml$/.test(entry) ? [path] : [];
    });
}
