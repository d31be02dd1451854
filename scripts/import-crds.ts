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
  'monitoring.coreos.com': ['PodMonitor', 'PrometheusRule', 'ServiceMonitor'],
  'sparkoperator.k8s.io': ['ScheduledSparkApplication', 'SparkApplication'],
  'zookeeper.stackable.tech': ['ZookeeperCluster', 'ZookeeperZnode'],
};

interface Crd {
  spec: { group: string; names: { kind: string }; versions: Array<{ name: string; served: boolean }> };
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
        .map((crd) => ({ ...crd, spec: { ...crd.spec, versions: crd.spec.versions.filter((v) => v.served) } }));
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
