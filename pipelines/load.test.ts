import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../environments/problem';
import { loadPipelines } from './load';

const scratch = mkdtempSync(join(tmpdir(), 'driftless-pipelines-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
/** A pipelines folder holding the given `pipeline.ts` sources (undefined: a folder without one). */
function pipelinesDir(files: Record<string, string | undefined>): string {
  const dir = join(scratch, `case-${counter++}`);
  for (const [folder, source] of Object.entries(files)) {
    mkdirSync(join(dir, folder), { recursive: true });
    if (source !== undefined) writeFileSync(join(dir, folder, 'pipeline.ts'), source);
  }
  return dir;
}

const spec = (overrides: Record<string, unknown> = {}) =>
  `export const pipeline = ${JSON.stringify({
    name: 'clicks',
    description: 'Sessions from clicks.',
    kind: 'streaming',
    sources: [{ type: 'kafka', topic: 'clicks' }],
    sinks: [{ type: 's3', bucket: 'curated', prefix: 'sessions/' }],
    rejects: { type: 'kafka', topic: 'clicks.dlq' },
    ...overrides,
  })};`;

async function problemsOf(dir: string): Promise<string[]> {
  try {
    await loadPipelines(dir);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.file} ${p.field}: ${p.rule}`);
    throw error;
  }
  return [];
}

describe('loadPipelines', () => {
  it('loads the three reference pipelines, sorted by name', async () => {
    expect((await loadPipelines()).map((p) => p.name)).toEqual(['daily-sales', 'order-events', 'temperature']);
  });

  it('loads a pipeline added as a new folder', async () => {
    expect((await loadPipelines(pipelinesDir({ clicks: spec() }))).map((p) => p.name)).toEqual(['clicks']);
  });

  it('reports every broken spec with file, field and rule', async () => {
    const dir = pipelinesDir({
      clicks: spec({ sinks: [] }),
      orders: spec({ name: 'orders', sources: [{ type: 'ftp', host: 'x' }], rejects: { type: 'hdfs', path: '/x' } }),
      sales: spec({ name: 'sales', kind: 'nightly', schedule: '0 2 * * *' }),
      topics: spec({ name: 'topics', sources: [{ type: 'kafka', topic: 'Bad Topic' }] }),
      prefixes: spec({ name: 'prefixes', sinks: [{ type: 's3', bucket: 'logs', prefix: '/abs' }] }),
    });
    expect(await problemsOf(dir)).toEqual([
      'pipelines/clicks/pipeline.ts sinks: must list at least one sink',
      "pipelines/orders/pipeline.ts sources.0.type: must be a location: { type: 'kafka', topic }, { type: 's3', bucket, prefix } or { type: 'hdfs', path }",
      "pipelines/orders/pipeline.ts rejects.type: must be a dead-letter location: { type: 'kafka', topic } or { type: 's3', bucket, prefix }",
      'pipelines/prefixes/pipeline.ts sinks.0.bucket: must be one of "raw", "curated"',
      "pipelines/prefixes/pipeline.ts sinks.0.prefix: must be a key prefix such as 'sales/daily/': lower-case path segments, each ending in '/'",
      'pipelines/sales/pipeline.ts kind: must be one of "streaming", "batch"',
      'pipelines/sales/pipeline.ts schedule: is not a known field (known: name, description, kind, sources, sinks, rejects)',
      'pipelines/topics/pipeline.ts sources.0.topic: must be a Kafka topic name: lower-case letters, digits, dots, dashes and underscores',
    ]);
  });

  it('requires a pipeline.ts exporting `pipeline` in every folder, named like its folder', async () => {
    const dir = pipelinesDir({ empty: undefined, noexport: 'export const spec = {};', renamed: spec({ name: 'other' }) });
    expect(await problemsOf(dir)).toEqual([
      'pipelines/empty/pipeline.ts : must exist: every folder under pipelines/ declares one pipeline',
      "pipelines/noexport/pipeline.ts : must export the spec as 'export const pipeline = { ... } satisfies PipelineInput'",
      "pipelines/renamed/pipeline.ts name: must be 'renamed', the name of its folder",
    ]);
  });
});
