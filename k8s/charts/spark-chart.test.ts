import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../../environments/load';
import { bucketName, NAMESPACES } from '../../environments/naming';
import { loadPipelines } from '../../pipelines/load';
import { topicsOf } from '../../pipelines/rules';
import type { Pipeline } from '../../pipelines/schema';
import { fixtureEnvironments } from '../../scripts/fixtures/environments';
import { fixturePipelines } from '../../scripts/fixtures/pipelines';
import { findObject, ofKind, renderChart, type KubeObject } from '../manifest-lookup';
import { pipelineImage } from '../../pipelines/runtime/image';
import { SparkChart } from './spark-chart';

const fixtures = await fixturePipelines();

// The team's environments with its pipelines, and the fixture environments with the fixture pipelines.
const cases = [
  { environments: await loadEnvironments(), pipelines: await loadPipelines() },
  { environments: fixtureEnvironments(), pipelines: fixtures },
].flatMap(({ environments, pipelines }) => environments.map((env) => ({ env, pipelines })));

/** The settings of a `spark-defaults.conf` (`key value` lines, `#` comments). */
function parseConf(text: string): Map<string, string> {
  const lines = text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'));
  return new Map(lines.map((line) => [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)]));
}

const confOf = (objects: readonly KubeObject[], name: string, namespace: string) =>
  parseConf(findObject(objects, 'ConfigMap', name, namespace).data['spark-defaults.conf']);

describe.each(cases)('the $env.name Spark runtime', ({ env, pipelines }) => {
  const objects = renderChart(SparkChart, env, pipelines);
  const pipelinesNs = NAMESPACES.pipelines;
  const operatorNs = NAMESPACES.sparkOperator;

  it('renders only into the pipelines and spark-operator namespaces, and the one Role that reads Kafka credentials', () => {
    expect(new Set(objects.map((o) => o.metadata.namespace))).toEqual(new Set([pipelinesNs, operatorNs, 'kafka']));
    expect(objects.filter((o) => o.metadata.namespace === 'kafka').map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Role/kafka-credentials',
      'RoleBinding/kafka-credentials',
    ]);
  });

  it('lets External Secrets read exactly the Kafka users of the pipelines and the cluster CA', () => {
    const role = findObject(objects, 'Role', 'kafka-credentials', 'kafka');
    const users = pipelines.filter((p) => topicsOf(p).length > 0).map((p) => p.name);
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['secrets'], resourceNames: [...users, 'events-cluster-ca-cert'], verbs: ['get'] }]);
    expect(findObject(objects, 'RoleBinding', 'kafka-credentials', 'kafka').subjects).toEqual([{ kind: 'ServiceAccount', name: 'kafka-credentials', namespace: pipelinesNs }]);
    expect(findObject(objects, 'SecretStore', 'kafka-credentials', pipelinesNs).spec.provider.kubernetes).toMatchObject({
      remoteNamespace: 'kafka',
      auth: { serviceAccount: { name: 'kafka-credentials' } },
    });
  });

  describe('pipeline identities', () => {
    it('gives every pipeline a service account, without annotations, bound to the driver role', () => {
      for (const pipeline of pipelines) {
        const name = `spark-${pipeline.name}`;
        expect(findObject(objects, 'ServiceAccount', name, pipelinesNs).metadata.annotations).toBeUndefined();
        const binding = findObject(objects, 'RoleBinding', name, pipelinesNs);
        expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'spark-driver' });
        expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name, namespace: pipelinesNs }]);
      }
      // One per pipeline, and the reader of Kafka credentials.
      expect(ofKind(objects, 'ServiceAccount', pipelinesNs)).toHaveLength(pipelines.length + 1);
      expect(ofKind(objects, 'RoleBinding', pipelinesNs)).toHaveLength(pipelines.length);
    });

    it('gives one more pipeline its own service account and binding', () => {
      const clickstream: Pipeline = { ...fixtures[0]!, name: 'clickstream' };
      const withFourth = renderChart(SparkChart, env, [...pipelines, clickstream]);
      expect(findObject(withFourth, 'ServiceAccount', 'spark-clickstream', pipelinesNs)).toBeDefined();
      expect(findObject(withFourth, 'RoleBinding', 'spark-clickstream', pipelinesNs).subjects).toEqual([
        { kind: 'ServiceAccount', name: 'spark-clickstream', namespace: pipelinesNs },
      ]);
      expect(ofKind(withFourth, 'RoleBinding', pipelinesNs)).toHaveLength(pipelines.length + 1);
    });

    it('lets drivers manage executors and their pods, configmaps, services and claims with only the verbs Spark uses', () => {
      const role = findObject(objects, 'Role', 'spark-driver', pipelinesNs);
      expect(role.rules).toEqual([
        { apiGroups: [''], resources: ['pods'], verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'watch'] },
        { apiGroups: [''], resources: ['services'], verbs: ['deletecollection'] },
        { apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'deletecollection'] },
        { apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['create', 'deletecollection', 'list'] },
      ]);
      expect(JSON.stringify(role.rules)).not.toContain('*');
      expect(ofKind(objects, 'Role', pipelinesNs)).toHaveLength(1);
      expect(ofKind(objects, 'ClusterRole')).toHaveLength(0);
    });
  });

  describe('spark-defaults', () => {
    const conf = confOf(objects, 'spark-defaults', pipelinesNs);

    it('reads S3 with the default AWS credentials chain (EKS Pod Identity) in the environment region', () => {
      expect(conf.get('spark.hadoop.fs.s3a.aws.credentials.provider')).toBe('software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider');
      expect(conf.get('spark.hadoop.fs.s3a.endpoint.region')).toBe(env.aws.region);
    });

    it('encrypts every write with SSE-KMS under the data key alias of the environment', () => {
      expect(conf.get('spark.hadoop.fs.s3a.encryption.algorithm')).toBe('SSE-KMS');
      expect(conf.get('spark.hadoop.fs.s3a.encryption.key')).toBe(`arn:aws:kms:${env.aws.region}:${env.aws.accountId}:alias/driftless-${env.name}-data`);
    });

    it('writes event logs to the spark-events prefix of the environment logs bucket', () => {
      expect(conf.get('spark.eventLog.enabled')).toBe('true');
      expect(conf.get('spark.eventLog.dir')).toBe(`s3a://${bucketName(env, 'logs')}/spark-events/`);
    });

    it('serves Prometheus metrics from the driver UI through the PrometheusServlet', () => {
      expect(conf.get('spark.ui.prometheus.enabled')).toBe('true');
      expect(conf.get('spark.metrics.conf.*.sink.prometheusServlet.class')).toBe('org.apache.spark.metrics.sink.PrometheusServlet');
      expect(conf.get('spark.metrics.conf.*.sink.prometheusServlet.path')).toBe('/metrics/prometheus');
    });

    it('fetches nothing at start: the connectors are in the pipeline image', () => {
      expect([...conf.keys()].filter((key) => /^spark\.jars(\.|$)/.test(key))).toEqual([]);
    });

    it('keeps its lines sorted', () => {
      const lines = findObject(objects, 'ConfigMap', 'spark-defaults', pipelinesNs).data['spark-defaults.conf'].split('\n').filter((l: string) => l && !l.startsWith('#'));
      expect(lines).toEqual([...lines].sort());
      expect(lines).toHaveLength(conf.size);
    });
  });

  describe('the History Server', () => {
    const deployment = findObject(objects, 'Deployment', 'spark-history-server', operatorNs);
    const pod = deployment.spec.template.spec;
    const containers: any[] = [...(pod.initContainers ?? []), ...pod.containers];
    const server = pod.containers.find((c: any) => c.name === 'history-server');
    const conf = confOf(objects, 'spark-history-server', operatorNs);

    it('runs one pinned Spark image as the HistoryServer class under its own service account', () => {
      expect(deployment.spec.replicas).toBe(1);
      expect(pod.serviceAccountName).toBe('spark-history-server');
      expect(findObject(objects, 'ServiceAccount', 'spark-history-server', operatorNs).automountServiceAccountToken).toBe(false);
      expect(server.command).toEqual(['/opt/spark/bin/spark-class', 'org.apache.spark.deploy.history.HistoryServer']);
      for (const container of containers) {
        expect(container.image).toBe(pipelineImage(env));
        expect(container.image).toMatch(/:[\w.-]+$/);
        expect(container.image).not.toMatch(/:latest$/);
      }
    });

    it('reads the same event log directory the pipelines write, with read-only S3A settings and no cleaner', () => {
      const pipelineConf = confOf(objects, 'spark-defaults', pipelinesNs);
      expect(conf.get('spark.history.fs.logDirectory')).toBe(pipelineConf.get('spark.eventLog.dir'));
      expect(conf.get('spark.hadoop.fs.s3a.aws.credentials.provider')).toBe(pipelineConf.get('spark.hadoop.fs.s3a.aws.credentials.provider'));
      expect(conf.get('spark.hadoop.fs.s3a.endpoint.region')).toBe(env.aws.region);
      expect(conf.get('spark.history.fs.cleaner.enabled')).toBe('false');
      expect([...conf.keys()].filter((k) => k.includes('encryption'))).toEqual([]);
      expect(server.env).toContainEqual({ name: 'SPARK_CONF_DIR', value: '/etc/spark/conf' });
      const confVolume = pod.volumes.find((v: any) => v.configMap?.name === 'spark-history-server');
      expect(server.volumeMounts).toContainEqual({ name: confVolume.name, mountPath: '/etc/spark/conf', readOnly: true });
    });

    it('has no init container and no volume for jars: S3A is in the image', () => {
      expect(pod.initContainers ?? []).toEqual([]);
      expect(pod.volumes.filter((v: any) => v.emptyDir !== undefined).map((v: any) => v.name)).toEqual(['tmp']);
    });

    it('runs as uid 185, non-root, with the RuntimeDefault seccomp profile', () => {
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 185, runAsGroup: 185, seccompProfile: { type: 'RuntimeDefault' } });
    });

    it('gives every container a read-only root filesystem, no privilege escalation and no capabilities', () => {
      expect(containers).toHaveLength(1);
      for (const container of containers) {
        expect(container.securityContext, container.name).toEqual({
          runAsNonRoot: true,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
      }
    });

    it('writes only to emptyDir volumes', () => {
      const emptyDirs = new Set(pod.volumes.filter((v: any) => v.emptyDir).map((v: any) => v.name));
      for (const container of containers) {
        expect(container.volumeMounts.find((m: any) => m.mountPath === '/tmp')?.name, container.name).toBe('tmp');
        for (const mount of container.volumeMounts.filter((m: any) => !m.readOnly)) expect(emptyDirs, `${container.name} ${mount.mountPath}`).toContain(mount.name);
      }
    });

    it('does not mount a Kubernetes API token', () => {
      expect(pod.automountServiceAccountToken).toBe(false);
    });

    it('requests CPU and memory and limits memory from the sizing', () => {
      for (const container of containers) {
        expect(container.resources, container.name).toEqual({ requests: { cpu: '500m', memory: '2Gi' }, limits: { memory: '2Gi' } });
      }
      expect(server.env).toContainEqual({ name: 'SPARK_DAEMON_MEMORY', value: '1024m' });
    });

    it('is probed for startup, readiness and liveness over HTTP on 18080', () => {
      expect(server.ports).toEqual([{ name: 'http', containerPort: 18080, protocol: 'TCP' }]);
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        expect(server[probe]?.httpGet, probe).toEqual({ path: '/api/v1/version', port: 'http' });
      }
    });

    it('labels its pods and serves the UI through a Service on 18080', () => {
      const labels = { 'app.kubernetes.io/name': 'spark-history-server' };
      expect(deployment.spec.template.metadata.labels).toEqual(labels);
      expect(deployment.spec.selector.matchLabels).toEqual(labels);
      const service = findObject(objects, 'Service', 'spark-history-server', operatorNs);
      expect(service.spec.selector).toEqual(labels);
      expect(service.spec.ports).toEqual([{ name: 'http', port: 18080, targetPort: 'http', protocol: 'TCP' }]);
    });
  });
});

describe('the Kafka credentials of the fixture pipelines', () => {
  it('are readable for the pipelines that use Kafka, and for no other', () => {
    const objects = renderChart(SparkChart, fixtureEnvironments()[0]!, fixtures);
    expect(fixtures.map((p) => [p.name, p.source.type, p.sink.type, p.rejects.type])).toEqual([
      ['clicks', 'kafka', 'kafka', 'kafka'],
      ['ledger', 's3', 's3', 's3'],
      ['readings', 'kafka', 'hdfs', 'kafka'],
    ]);
    expect(findObject(objects, 'Role', 'kafka-credentials', 'kafka').rules[0].resourceNames).toEqual(['clicks', 'readings', 'events-cluster-ca-cert']);
  });
});
