/**
 * Compares two synthesized outputs of the project (cdktf.out/stacks/<env>-<stack>/cdk.tf.json and
 * k8s/rendered/<env>/**.yaml): per environment, the Terraform resources added, changed (which attributes),
 * replaced and destroyed, and the Kubernetes objects added, changed and removed.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { parseStackName, RENDERED_ROOT } from '../environments/naming';
import { replacingArguments } from './replacement-attributes';
import { changedPaths, formatPath, lineDiff, pathLabels, type Path } from './value-diff';

const STACKS_DIR = join('cdktf.out', 'stacks');

/** The configuration of one stack: resource address (`type.name`, `data.type.name`) → arguments. */
export type StackConfig = ReadonlyMap<string, Record<string, unknown>>;

/** One Kubernetes object of a rendered tree. */
export interface KubernetesObject {
  /** `apiVersion/kind/namespace/name`: what identifies the object to the API server. */
  readonly id: string;
  readonly apiVersion: string;
  readonly kind: string;
  /** Empty for cluster-scoped objects. */
  readonly namespace: string;
  readonly name: string;
  /** The file it is in, relative to the environment's folder. */
  readonly file: string;
  readonly value: Record<string, unknown>;
}

/** The objects of one environment's rendered folder, and its files. */
export interface KubernetesTree {
  readonly objects: ReadonlyMap<string, KubernetesObject>;
  /** Relative path → contents, of every file in the folder. */
  readonly files: ReadonlyMap<string, string>;
  /** Files that are not YAML Kubernetes objects, one line each. */
  readonly problems: readonly string[];
}

/** What `npm run synth` wrote into a folder: Terraform per stack, Kubernetes per environment. */
export interface SynthOutput {
  readonly stacks: ReadonlyMap<string, StackConfig>;
  readonly rendered: ReadonlyMap<string, KubernetesTree>;
}

/** One attribute of a Terraform resource that changes. */
export interface AttributeChange {
  readonly path: string;
  /** The replaced resource it refers to, when the value is only known after that replacement. */
  readonly via?: string;
}

/** What happens to one Terraform resource or data source. */
export interface TerraformChange {
  readonly stack: string;
  readonly address: string;
  /** Resource type; data sources too (`aws_vpc` for `data.aws_vpc.vpc`). */
  readonly type: string;
  readonly mode: 'managed' | 'data';
  readonly action: 'create' | 'update' | 'replace' | 'delete';
  /** Changed attributes (update, replace). */
  readonly changes: readonly AttributeChange[];
  /** The changed attributes that force the replacement (replace). */
  readonly forcedBy: readonly string[];
  /** The old configuration sets lifecycle.prevent_destroy: Terraform refuses to plan a delete or replace. */
  readonly preventDestroy: boolean;
}

/** What happens to one Kubernetes object. */
export interface KubernetesChange {
  readonly action: 'add' | 'change' | 'remove';
  readonly id: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly file: string;
  /** Changed paths as report labels (change): `spec.kafka.config["log.retention.hours"]`. */
  readonly paths: readonly string[];
  /** The same paths as steps, for rules that look at the values (change). */
  readonly steps: readonly Path[];
  /** Compact YAML diff (change). */
  readonly diff: readonly string[];
  readonly before?: Record<string, unknown>;
  readonly after?: Record<string, unknown>;
}

/** Everything that differs in one environment. */
export interface EnvironmentDiff {
  readonly env: string;
  readonly terraform: readonly TerraformChange[];
  readonly kubernetes: readonly KubernetesChange[];
}

/** Reads the synthesized output under `root`; folders that do not exist count as empty. */
export function readSynthOutput(root: string): SynthOutput {
  const stacksDir = join(root, STACKS_DIR);
  const stacks = new Map<string, StackConfig>();
  for (const stack of listDirs(stacksDir)) {
    const file = join(stacksDir, stack, 'cdk.tf.json');
    if (existsSync(file)) stacks.set(stack, stackConfig(JSON.parse(readFileSync(file, 'utf8'))));
  }
  const renderedDir = join(root, RENDERED_ROOT);
  const rendered = new Map<string, KubernetesTree>();
  for (const env of listDirs(renderedDir)) rendered.set(env, readKubernetesTree(join(renderedDir, env)));
  return { stacks, rendered };
}

/** The environment a stack belongs to: `prod` of `prod-data-lake`. */
export const stackEnvironment = (stack: string): string => parseStackName(stack)?.env ?? stack;

/** The resources and data sources of a cdk.tf.json, without cdktf's `//` metadata. */
export function stackConfig(json: unknown): StackConfig {
  const config = new Map<string, Record<string, unknown>>();
  const root = withoutComments(json) as Record<string, Record<string, Record<string, Record<string, unknown>>> | undefined>;
  for (const [block, prefix] of [['resource', ''], ['data', 'data.']] as const) {
    for (const [type, byName] of Object.entries(root[block] ?? {})) {
      for (const [name, args] of Object.entries(byName)) config.set(`${prefix}${type}.${name}`, args);
    }
  }
  return config;
}

function withoutComments(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutComments);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => key !== '//').map(([key, item]) => [key, withoutComments(item)]));
}

/** Reads every `.yaml` file under `dir` (an environment's rendered folder) as Kubernetes objects. */
export function readKubernetesTree(dir: string): KubernetesTree {
  const objects = new Map<string, KubernetesObject>();
  const files = new Map<string, string>();
  const problems: string[] = [];
  for (const file of listFiles(dir)) {
    const text = readFileSync(join(dir, file), 'utf8');
    files.set(file, text);
    if (!/\.ya?ml$/.test(file)) continue;
    for (const document of parseAllDocuments(text)) {
      if (document.errors.length > 0) {
        problems.push(`${file}: not valid YAML: ${document.errors[0]?.message.split('\n')[0]}`);
        continue;
      }
      const value = document.toJS() as unknown;
      if (value === null || value === undefined) continue;
      const object = kubernetesObject(value, file);
      if (object === undefined) problems.push(`${file}: not a Kubernetes object (apiVersion, kind and metadata.name are required)`);
      else objects.set(object.id, object);
    }
  }
  return { objects, files, problems };
}

function kubernetesObject(value: unknown, file: string): KubernetesObject | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  const metadata = (record.metadata ?? {}) as Record<string, unknown>;
  const { apiVersion, kind } = record;
  const { name, namespace = '' } = metadata;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || typeof name !== 'string' || typeof namespace !== 'string') return undefined;
  return { id: `${apiVersion}/${kind}/${namespace}/${name}`, apiVersion, kind, namespace, name, file, value: record };
}

/** `Kafka kafka/events`, `Namespace kafka`: how reports name an object. */
export const objectLabel = (object: { kind: string; namespace: string; name: string }): string =>
  `${object.kind} ${object.namespace === '' ? '' : `${object.namespace}/`}${object.name}`;

/**
 * Per environment (both sides' environments), what differs from `base` to `head`: in `deployOrder` (the head's
 * environments in the order they are deployed), then environments it does not name (removed ones) by name.
 */
export function compareOutputs(base: SynthOutput, head: SynthOutput, deployOrder: readonly string[] = []): EnvironmentDiff[] {
  const envs = new Set([...base.stacks.keys(), ...head.stacks.keys()].map(stackEnvironment));
  for (const env of [...base.rendered.keys(), ...head.rendered.keys()]) envs.add(env);
  const order = (env: string) => {
    const index = deployOrder.indexOf(env);
    return index < 0 ? deployOrder.length : index;
  };
  return [...envs]
    .sort((a, b) => order(a) - order(b) || a.localeCompare(b))
    .map((env) => {
      const stacks = [...new Set([...base.stacks.keys(), ...head.stacks.keys()])].filter((stack) => stackEnvironment(stack) === env).sort();
      const empty = new Map<string, Record<string, unknown>>();
      const noObjects = new Map<string, KubernetesObject>();
      return {
        env,
        terraform: stacks.flatMap((stack) => diffStack(stack, base.stacks.get(stack) ?? empty, head.stacks.get(stack) ?? empty)),
        kubernetes: diffKubernetes(base.rendered.get(env)?.objects ?? noObjects, head.rendered.get(env)?.objects ?? noObjects),
      };
    });
}

/**
 * The changes of one stack. Arguments that refer to a replaced resource (`${aws_s3_bucket.x.id}`) change as
 * well, once it is replaced; where such an argument forces replacement, the referring resource is replaced
 * too, and so on down the chain.
 */
export function diffStack(stack: string, base: StackConfig, head: StackConfig): TerraformChange[] {
  const addresses = [...new Set([...base.keys(), ...head.keys()])].sort();
  const direct = new Map<string, Path[]>();
  for (const address of addresses) {
    const before = base.get(address);
    const after = head.get(address);
    if (before !== undefined && after !== undefined) direct.set(address, changedPaths(before, after));
  }
  const replaced = new Set<string>();
  const forced = new Map<string, string[]>();
  const referring = new Map<string, AttributeChange[]>();
  // Direct changes first, then what follows from replacements until nothing new is replaced.
  for (const [address, paths] of direct) {
    const hits = forcingPaths(address, pathLabels(base.get(address), head.get(address), paths));
    if (hits.length > 0) {
      replaced.add(address);
      forced.set(address, hits);
    }
  }
  for (let grew = true; grew; ) {
    grew = false;
    for (const address of direct.keys()) {
      const changes = references(head.get(address) ?? {}, replaced, head, direct).filter((change) => change.via !== address);
      referring.set(address, changes);
      if (replaced.has(address)) continue;
      const hits = forcingPaths(address, changes.map((change) => change.path));
      if (hits.length > 0) {
        replaced.add(address);
        forced.set(address, hits);
        grew = true;
      }
    }
  }
  const changes: TerraformChange[] = [];
  for (const address of addresses) {
    const before = base.get(address);
    const after = head.get(address);
    const { type, mode } = parseAddress(address);
    const preventDestroy = (before?.lifecycle as { prevent_destroy?: unknown } | undefined)?.prevent_destroy === true;
    const common = { stack, address, type, mode, forcedBy: [] as string[], preventDestroy };
    if (before === undefined) {
      changes.push({ ...common, action: 'create', changes: [] });
    } else if (after === undefined) {
      changes.push({ ...common, action: 'delete', changes: [] });
    } else {
      const attributeChanges: AttributeChange[] = pathLabels(before, after, direct.get(address) ?? []).map((path) => ({ path }));
      const seen = new Set(attributeChanges.map((change) => change.path));
      for (const change of referring.get(address) ?? []) {
        if (!seen.has(change.path)) attributeChanges.push(change);
      }
      if (attributeChanges.length === 0) continue;
      attributeChanges.sort((a, b) => a.path.localeCompare(b.path));
      const action = replaced.has(address) ? 'replace' : 'update';
      changes.push({ ...common, action, changes: attributeChanges, forcedBy: forced.get(address) ?? [] });
    }
  }
  return changes;
}

function parseAddress(address: string): { type: string; mode: 'managed' | 'data' } {
  const parts = address.split('.');
  return parts[0] === 'data' ? { type: parts[1] ?? '', mode: 'data' } : { type: parts[0] ?? '', mode: 'managed' };
}

function forcingPaths(address: string, paths: readonly string[]): string[] {
  const { type, mode } = parseAddress(address);
  if (mode === 'data') return [];
  return paths.filter((path) => replacingArguments(type, path).length > 0);
}

// `${aws_s3_bucket.curated_bucket_852DE08A.id}`, `${data.aws_vpc.vpc.id}`, also inside function calls.
const INTERPOLATION = /\$\{([^}]*)\}/g;
const REFERENCE = /(?<![\w.-])((?:data\.)?[a-z][a-z0-9_]*\.[A-Za-z_][A-Za-z0-9_-]*)\.([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * The string arguments of `config` that refer to a replaced resource's attribute whose value is not known
 * until it is replaced: a computed attribute (`id`, `arn`), or one of its own arguments that changes.
 */
function references(
  config: Record<string, unknown>,
  replaced: ReadonlySet<string>,
  head: StackConfig,
  direct: ReadonlyMap<string, Path[]>,
): AttributeChange[] {
  const found: AttributeChange[] = [];
  const visit = (value: unknown, path: Path) => {
    if (typeof value === 'string') {
      for (const [, expression = ''] of value.matchAll(INTERPOLATION)) {
        for (const [, target = '', attribute = ''] of expression.matchAll(REFERENCE)) {
          if (!replaced.has(target)) continue;
          const targetConfig = head.get(target) ?? {};
          const attributeChanges = (direct.get(target) ?? []).some((changed) => changed[0] === attribute);
          if (attribute in targetConfig && !attributeChanges) continue; // a configured value that stays the same
          found.push({ path: formatPath(path), via: target });
          return;
        }
      }
    } else if (Array.isArray(value)) {
      value.forEach((item, index) => visit(item, [...path, index]));
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) if (key !== 'depends_on') visit(item, [...path, key]);
    }
  };
  visit(config, []);
  return found;
}

/** Objects added, changed (with paths and a compact YAML diff) and removed, in file order. */
export function diffKubernetes(
  base: ReadonlyMap<string, KubernetesObject>,
  head: ReadonlyMap<string, KubernetesObject>,
): KubernetesChange[] {
  const changes: KubernetesChange[] = [];
  for (const id of new Set([...base.keys(), ...head.keys()])) {
    const before = base.get(id);
    const after = head.get(id);
    const object = (after ?? before) as KubernetesObject;
    const common = { id, apiVersion: object.apiVersion, kind: object.kind, namespace: object.namespace, name: object.name, file: object.file };
    if (before === undefined) {
      changes.push({ ...common, action: 'add', paths: [], steps: [], diff: [], after: object.value });
    } else if (after === undefined) {
      changes.push({ ...common, action: 'remove', paths: [], steps: [], diff: [], before: object.value });
    } else {
      const steps = changedPaths(before.value, after.value);
      if (steps.length === 0) continue;
      const diff = lineDiff(asYaml(before.value), asYaml(after.value));
      const paths = pathLabels(before.value, after.value, steps);
      changes.push({ ...common, action: 'change', paths, steps, diff, before: before.value, after: after.value });
    }
  }
  return changes.sort((a, b) => a.file.localeCompare(b.file) || a.id.localeCompare(b.id));
}

const asYaml = (value: unknown): string => stringify(value, { sortMapEntries: true, lineWidth: 0 });

function listDirs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((entry) => statSync(join(dir, entry)).isDirectory())
    .sort();
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const files: string[] = [];
  const walk = (current: string) => {
    for (const entry of readdirSync(current).sort()) {
      const path = join(current, entry);
      if (statSync(path).isDirectory()) walk(path);
      else files.push(relative(dir, path));
    }
  };
  walk(dir);
  return files;
}
