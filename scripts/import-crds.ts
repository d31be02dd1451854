/**
 * `npm run import-crds`: regenerates the typed classes in k8s/imports/ from the pinned CRD files in
 * ../shared/schemas/crds with `cdk8s import`, offline. Only the kinds the platform writes are imported,
 * and only their served versions (Strimzi 1.2 serves kafka.strimzi.io/v1 alone; External Secrets keeps an
 * unserved v1beta1 in its CRDs), so nothing can be written against an API the cluster would refuse.
 * The output is committed and never edited by hand; the schema files themselves are never committed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { PROJECT_ROOT } from './project-copy';

/** The kinds written through generated classes, by CRD file prefix (the API group). */
const KINDS: Record<string, readonly string[]> = {
  'argoproj.io': ['Application', 'AppProject'],
  'external-secrets.io': ['ClusterSecretStore', 'ExternalSecret', 'SecretStore'],
  'hdfs.stackable.tech': ['HdfsCluster'],
  'kafka.strimzi.io': ['Kafka', 'KafkaNodePool', 'KafkaTopic', 'KafkaUser'],
  // Karpenter's file also holds the karpenter.k8s.aws group (EC2NodeClass), imported into a module of its own.
  'karpenter.sh': ['EC2NodeClass', 'NodePool'],
  'monitoring.coreos.com': ['PodMonitor', 'PrometheusRule', 'ServiceMonitor'],
  'sparkoperator.k8s.io': ['ScheduledSparkApplication', 'SparkApplication'],
  'zookeeper.stackable.tech': ['ZookeeperCluster', 'ZookeeperZnode'],
};

/**
 * Schema parts that the platform never writes, left out of the generated classes because they are most of
 * their code (four copies of a container spec per Spark role, Strimzi's pod templates) and every synth
 * loads that code. The CRDs
 * themselves are unchanged: manifest-check still validates against all of them. Writing one of these
 * fields means removing it here and running `npm run import-crds`.
 */
const PRUNED: Record<string, readonly string[]> = (() => {
  const sparkRole = ['initContainers', 'sidecars', 'affinity', 'lifecycle'];
  const roles = (prefix: string) => ['driver', 'executor'].flatMap((role) => sparkRole.map((field) => `${prefix}${role}.${field}`));
  return {
    SparkApplication: roles('spec.'),
    ScheduledSparkApplication: roles('spec.template.'),
    // Cruise Control and the broker template of the Kafka object (each KafkaNodePool carries its own): not written.
    Kafka: ['spec.kafka.template', 'spec.cruiseControl'],
  };
})();

/**
 * Of Strimzi's pod templates, only the required node affinity: what puts a pod on a Karpenter NodePool (Strimzi's
 * pod template has no nodeSelector). The rest of a template is most of Strimzi's schema and stays the operator's.
 */
const nodeAffinityOnly = (template: string): Readonly<Record<string, readonly string[]>> => ({
  [`${template}`]: ['pod'],
  [`${template}.pod`]: ['affinity'],
  [`${template}.pod.affinity`]: ['nodeAffinity'],
  [`${template}.pod.affinity.nodeAffinity`]: ['requiredDuringSchedulingIgnoredDuringExecution'],
});

/** Objects of which only some properties are generated, for the same reason: the secret stores' 40-odd providers. */
const ONLY: Record<string, Readonly<Record<string, readonly string[]>>> = {
  ClusterSecretStore: { 'spec.provider': ['aws', 'kubernetes'] },
  SecretStore: { 'spec.provider': ['aws', 'kubernetes'] },
  Kafka: { ...nodeAffinityOnly('spec.entityOperator.template'), ...nodeAffinityOnly('spec.kafkaExporter.template') },
  KafkaNodePool: nodeAffinityOnly('spec.template'),
};

interface Crd {
  spec: { group: string; names: { kind: string }; versions: Array<{ name: string; served: boolean; schema?: { openAPIV3Schema: Schema } }> };
}

interface Schema {
  properties?: Record<string, Schema>;
}

/** The schema with only `kept` of the properties of the object at `path`. */
function keeping(schema: Schema, path: string, kept: readonly string[]): Schema {
  const at = path.split('.').reduce<Schema | undefined>((node, key) => node?.properties?.[key], schema);
  const drop = Object.keys(at?.properties ?? {}).filter((name) => !kept.includes(name));
  if (at === undefined || drop.length + kept.length !== Object.keys(at.properties ?? {}).length) {
    throw new Error(`${path} does not hold ${kept.join(', ')}: update ONLY in scripts/import-crds.ts`);
  }
  return drop.reduce((pruned, name) => without(pruned, `${path}.${name}`), schema);
}

/** The schema with the property at `path` (dotted, from the object root) removed. */
function without(schema: Schema, path: string): Schema {
  const [head, ...rest] = path.split('.');
  const properties = schema.properties ?? {};
  if (head === undefined || !(head in properties)) throw new Error(`no property ${path} to prune: update PRUNED in scripts/import-crds.ts`);
  if (rest.length === 0) {
    const { [head]: _removed, ...kept } = properties;
    return { ...schema, properties: kept };
  }
  return { ...schema, properties: { ...properties, [head]: without(properties[head]!, rest.join('.')) } };
}

/** The part of a kind's schema that classes are generated for (see PRUNED and ONLY). */
function generatedPart(kind: string, schema: Schema): Schema {
  const pruned = (PRUNED[kind] ?? []).reduce(without, schema);
  return Object.entries(ONLY[kind] ?? {}).reduce((part, [path, kept]) => keeping(part, path, kept), pruned);
}

function main(): void {
  const schemas = join(PROJECT_ROOT, '..', 'shared', 'schemas', 'crds');
  if (!existsSync(schemas)) throw new Error(`the CRD files are not at ${schemas}; they live in ../shared/schemas/crds beside the repository`);
  const output = join(PROJECT_ROOT, 'k8s', 'imports');
  const scratch = mkdtempSync(join(tmpdir(), 'driftless-crds-'));
  try {
    for (const file of readdirSync(schemas).filter((f) => f.endsWith('.yaml')).sort()) {
      const group = file.split('_')[0]!;
      const wanted = KINDS[group];
      if (wanted === undefined) continue;
      const crds = parseAllDocuments(readFileSync(join(schemas, file), 'utf8'))
        .map((doc) => doc.toJS() as Crd | null)
        .filter((crd): crd is Crd => crd !== null && wanted.includes(crd.spec?.names?.kind))
        .map((crd) => ({
          ...crd,
          spec: {
            ...crd.spec,
            versions: crd.spec.versions
              .filter((v) => v.served)
              .map((v) =>
                v.schema === undefined
                  ? v
                  : { ...v, schema: { openAPIV3Schema: generatedPart(crd.spec.names.kind, v.schema.openAPIV3Schema) } },
              ),
          },
        }));
      const missing = wanted.filter((kind) => !crds.some((crd) => crd.spec.names.kind === kind));
      if (missing.length > 0) throw new Error(`${file} has no served CRD for ${missing.join(', ')}`);
      const selected = join(scratch, `${group}.yaml`);
      writeFileSync(selected, crds.map((crd) => stringify(crd)).join('---\n'));
      execFileSync(join(PROJECT_ROOT, 'node_modules', '.bin', 'cdk8s'), ['import', selected, '--language', 'typescript', '--output', output], {
        stdio: 'inherit',
      });
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main();
