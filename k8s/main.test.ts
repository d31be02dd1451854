import { App, Chart, Testing } from 'cdk8s';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../environments/load';
import { loadPipelines } from '../pipelines/load';
import { fixtureEnvironments } from '../scripts/fixtures/environments';
import { fixturePipelines } from '../scripts/fixtures/pipelines';
import { k8s } from './kube';
import { manifestYaml, renderManifests } from './main';

type KubeObject = { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: any };

// The team's environments with its pipelines, and the fixture environments with the fixture pipelines.
const renderings = [
  { of: 'the environments and pipelines of this repository', environments: await loadEnvironments(), pipelines: await loadPipelines() },
  { of: 'the fixture environments and pipelines', environments: fixtureEnvironments(), pipelines: await fixturePipelines() },
].map((inputs) => ({ ...inputs, files: renderManifests(inputs.environments, inputs.pipelines) }));

describe.each(renderings)('renderManifests of $of', ({ environments, pipelines, files }) => {
  it('renders every environment, and every pipeline of every environment', () => {
    expect(new Set(files.map((f) => f.path.split('/')[2]))).toEqual(new Set(environments.map((env) => env.name)));
    for (const env of environments) {
      const rendered = new Set(files.filter((f) => f.path.startsWith(`k8s/rendered/${env.name}/pipelines/`)).map((f) => f.path.split('/')[4]));
      expect(rendered, env.name).toEqual(new Set(pipelines.map((p) => p.name)));
    }
  });

  it('labels every object with the environment of its folder', () => {
    for (const file of files) {
      const object = parse(file.content) as KubeObject;
      const env = file.path.split('/')[2];
      expect(object.metadata.labels?.['driftless.io/environment']).toBe(env);
    }
  });

  it('returns files in a stable order with a final newline', () => {
    const paths = files.map((f) => f.path);
    expect(paths).toEqual([...paths].sort());
    for (const file of files) expect(file.content.endsWith('\n'), file.path).toBe(true);
  });
});

describe('renderManifests of the fixture environments', () => {
  const { files } = renderings[1]!;
  const paths = files.map((f) => f.path);

  it('writes one file per object under k8s/rendered/<env>/<component>/, named by kind, namespace and name', () => {
    expect(paths).toContain('k8s/rendered/live/platform/networkpolicy-kafka-default-deny.yaml');
    expect(paths).toContain('k8s/rendered/trial/platform/storageclass-data-gp3-retain.yaml');
    expect(paths).toContain('k8s/rendered/lab/platform/namespace-kafka.yaml');
    expect(paths).toContain('k8s/rendered/live/pipelines/readings/kafkatopic-kafka-sensor-readings.dlq.yaml');
    expect(paths).toContain('k8s/rendered/trial/pipelines/ledger/scheduledsparkapplication-pipelines-ledger.yaml');
  });

  it('writes sorted keys', () => {
    const ns = files.find((f) => f.path === 'k8s/rendered/lab/platform/namespace-kafka.yaml')!;
    expect(ns.content.split('\n').filter((line) => /^\S/.test(line))).toEqual(['apiVersion: v1', 'kind: Namespace', 'metadata:']);
    expect(ns.content.endsWith('\n')).toBe(true);
  });
});

describe('manifestYaml', () => {
  it('quotes strings that YAML 1.1 readers such as kubectl would take for booleans or octals', () => {
    const chart = new Chart(new App(), 'quoting');
    const map = new k8s.KubeConfigMap(chart, 'flags', { metadata: { name: 'flags' }, data: { enabled: 'yes', mode: 'on', umask: '0755' } });
    const yaml = manifestYaml(map.toJson());
    expect(yaml).toContain('enabled: "yes"');
    expect(yaml).toContain('mode: "on"');
    expect(yaml).toContain('umask: "0755"');
  });

  it('never folds long lines', () => {
    expect(manifestYaml({ long: 'word '.repeat(100).trim() })).toBe(`long: ${'word '.repeat(100).trim()}\n`);
  });
});
