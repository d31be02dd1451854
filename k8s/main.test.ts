import { App, Chart, Testing } from 'cdk8s';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadEnvironments } from '../environments/load';
import { loadPipelines } from '../pipelines/load';
import { k8s } from './kube';
import { manifestYaml, renderManifests } from './main';

type KubeObject = { kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: any };

const environments = await loadEnvironments();
const pipelines = await loadPipelines();

describe('renderManifests', () => {
  const files = renderManifests(environments, pipelines);

  it('writes one file per object under k8s/rendered/<env>/<component>/, named by kind, namespace and name', () => {
    expect(files.map((f) => f.path)).toContain('k8s/rendered/prod/platform/networkpolicy-kafka-default-deny.yaml');
    expect(files.map((f) => f.path)).toContain('k8s/rendered/staging/platform/storageclass-data-gp3-retain.yaml');
    expect(files.map((f) => f.path)).toContain('k8s/rendered/dev/platform/namespace-kafka.yaml');
    for (const file of files) {
      const object = parse(file.content) as KubeObject;
      const env = file.path.split('/')[2];
      expect(object.metadata.labels?.['driftless.io/environment']).toBe(env);
    }
  });

  it('returns files in a stable order with sorted keys and a final newline', () => {
    const paths = files.map((f) => f.path);
    expect(paths).toEqual([...paths].sort());
    const ns = files.find((f) => f.path === 'k8s/rendered/dev/platform/namespace-kafka.yaml')!;
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
