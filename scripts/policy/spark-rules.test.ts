import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../../environments/load';
import { pipelineImage, SPARK_WORK_DIR } from '../../pipelines/runtime/image';
import type { KubeObject, ManifestContext } from './rule';
import { noDownloadsAtStart, runsPipelineImage, writableWorkDir } from './spark-rules';

const [env] = await loadEnvironments();
const context = { env: env!, manifests: [] } as ManifestContext;
const role = { securityContext: { readOnlyRootFilesystem: true }, volumeMounts: [{ name: 'work-dir', mountPath: SPARK_WORK_DIR }] };
const good = (): any => ({
  image: pipelineImage(env!),
  sparkConf: { 'spark.sql.session.timeZone': 'UTC' },
  volumes: [{ name: 'work-dir', emptyDir: {} }],
  driver: structuredClone(role),
  executor: structuredClone(role),
});
const app = (spec: any): KubeObject => ({ apiVersion: 'sparkoperator.k8s.io/v1beta2', kind: 'SparkApplication', metadata: { name: 'job', namespace: 'pipelines' }, spec });
const scheduled = (spec: any): KubeObject => ({ apiVersion: 'sparkoperator.k8s.io/v1beta2', kind: 'ScheduledSparkApplication', metadata: { name: 'job', namespace: 'pipelines' }, spec: { template: spec } });

describe('Spark rules', () => {
  it('pass an application that runs the pipeline image with a writable work dir and downloads nothing', () => {
    for (const object of [app(good()), scheduled(good())]) {
      for (const rule of [noDownloadsAtStart, runsPipelineImage, writableWorkDir]) expect(rule.check(object, context), rule.id).toEqual([]);
    }
  });

  it('find packages, repositories, remote jars and deps fetched at start', () => {
    const spec = good();
    spec.sparkConf['spark.jars.packages'] = 'org.apache.hadoop:hadoop-aws:3.5.0';
    spec.sparkConf['spark.jars'] = 'local:///opt/spark/jars/x.jar,https://example.com/y.jar';
    spec.deps = { packages: ['a:b:1'] };
    expect(noDownloadsAtStart.check(scheduled(spec), context)).toEqual([
      'sets spark.jars.packages, so its pods resolve and download jars when they start',
      'puts the remote jar https://example.com/y.jar on spark.jars, downloaded when its pods start',
      'lists deps.packages, downloaded when its pods start',
    ]);
  });

  it('find another image, for the application or one role', () => {
    const spec = { ...good(), image: 'docker.io/library/spark:4.2.0' };
    expect(runsPipelineImage.check(app(spec), context)).toEqual([`the application runs docker.io/library/spark:4.2.0, not the pipeline image ${pipelineImage(env!)}`]);
    const role = good();
    role.executor.image = 'other:1';
    expect(runsPipelineImage.check(app(role), context)).toEqual([`the executor runs other:1, not the pipeline image ${pipelineImage(env!)}`]);
  });

  it('find a writable root, a missing work dir and one that is not a writable emptyDir', () => {
    const spec = good();
    spec.driver.securityContext.readOnlyRootFilesystem = false;
    spec.executor.volumeMounts = [];
    expect(writableWorkDir.check(app(spec), context)).toEqual([
      'the driver has a writable root filesystem',
      `the executor mounts no volume at ${SPARK_WORK_DIR}, where Spark writes the job's files`,
    ]);
    const readOnly = good();
    readOnly.driver.volumeMounts[0].readOnly = true;
    expect(writableWorkDir.check(app(readOnly), context)).toEqual([`the driver's ${SPARK_WORK_DIR} is not a writable emptyDir`]);
  });
});
