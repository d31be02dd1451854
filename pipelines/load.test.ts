import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../environments/problem';
import { loadPipelines, PIPELINES_DIR } from './load';
import { RUNTIME_FOLDER } from './job-code';
import { readdirSync } from 'node:fs';

const scratch = mkdtempSync(join(tmpdir(), 'driftless-pipelines-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
/**
 * A pipelines folder with the shared runtime and, per pipeline folder, the given `pipeline.ts` source
 * (undefined: a folder without one) and the SQL files it names.
 */
function pipelinesDir(files: Record<string, string | undefined>, sqlFiles: readonly string[] = ['sessions.sql']): string {
  const dir = join(scratch, `case-${counter++}`);
  mkdirSync(join(dir, 'runtime'), { recursive: true });
  writeFileSync(join(dir, 'runtime', 'driftless_runtime.py'), '# runtime\n');
  for (const [folder, source] of Object.entries(files)) {
    mkdirSync(join(dir, folder), { recursive: true });
    if (source !== undefined) writeFileSync(join(dir, folder, 'pipeline.ts'), source);
    for (const sql of sqlFiles) writeFileSync(join(dir, folder, sql), 'SELECT * FROM source\n');
  }
  return dir;
}

const SPEC = {
  name: 'clicks',
  description: 'Sessions from clicks.',
  kind: 'streaming',
  triggerSeconds: 60,
  source: { type: 'kafka', topic: 'clicks', format: 'json' },
  schema: [{ name: 'user_id', type: 'string' }, { name: 'clicked_at', type: 'timestamp' }],
  quality: { required: ['user_id'], ranges: [] },
  steps: ['sessions.sql'],
  state: { merge: {} },
  sink: { type: 's3', bucket: 'curated', prefix: 'sessions/' },
  rejects: { type: 'kafka', topic: 'clicks.dlq' },
  topics: { partitions: { lab: 1, live: 3 } },
  alerts: { staleAfterMinutes: 10 },
};
/** A windowed stream from topic `topic` with its dead letters beside it. */
const windowed = (topic: string) => ({
  window: { column: 'clicked_at', unit: 'minute', watermarkMinutes: 1 },
  state: undefined,
  source: { type: 'kafka', topic, format: 'json' },
  rejects: { type: 'kafka', topic: `${topic}.dlq` },
});
const spec = (overrides: Record<string, unknown> = {}) => `export const pipeline = ${JSON.stringify({ ...SPEC, ...overrides })};`;

/** The environments the fixture specs size themselves for. */
const ENVIRONMENTS = ['lab', 'trial', 'live'];

async function problemsOf(dir: string): Promise<string[]> {
  try {
    await loadPipelines(dir, ENVIRONMENTS);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.file} ${p.field}: ${p.rule}`);
    throw error;
  }
  return [];
}

describe('loadPipelines', () => {
  it('loads every pipeline folder in pipelines/, sorted by name, with its code hash', async () => {
    const pipelines = await loadPipelines();
    const folders = readdirSync(PIPELINES_DIR, { withFileTypes: true }).filter((e) => e.isDirectory() && e.name !== RUNTIME_FOLDER && !e.name.startsWith('.'));
    expect(pipelines.map((p) => p.name)).toEqual(folders.map((e) => e.name).sort());
    for (const pipeline of pipelines) expect(pipeline.code.hash).toMatch(/^[0-9a-f]{16}$/);
  });

  it('loads a pipeline added as a new folder', async () => {
    expect((await loadPipelines(pipelinesDir({ clicks: spec() }), ENVIRONMENTS)).map((p) => p.name)).toEqual(['clicks']);
  });

  it('changes the code hash when a SQL step changes, and only then', async () => {
    const dir = pipelinesDir({ clicks: spec() });
    const [before] = await loadPipelines(dir, ENVIRONMENTS);
    expect((await loadPipelines(dir, ENVIRONMENTS))[0]!.code.hash).toBe(before!.code.hash);
    writeFileSync(join(dir, 'clicks', 'sessions.sql'), 'SELECT user_id FROM source\n');
    expect((await loadPipelines(dir, ENVIRONMENTS))[0]!.code.hash).not.toBe(before!.code.hash);
  });

  it('reports every broken spec with file, field and rule', async () => {
    const dir = pipelinesDir({
      clicks: spec({ sink: { type: 'ftp', host: 'x' } }),
      payments: spec({ name: 'payments', source: { type: 'kafka', topic: 'payments', format: 'json' }, rejects: { type: 'hdfs', path: '/x' } }),
      nightly: spec({ name: 'nightly', kind: 'nightly', cron: '0 2 * * *' }),
      topics: spec({ name: 'topics', source: { type: 'kafka', topic: 'Bad Topic', format: 'json' } }),
      batch: spec({ name: 'batch', kind: 'batch', schedule: '0 0 2 * * *', triggerSeconds: undefined, state: undefined, source: { type: 's3', bucket: 'raw', prefix: 'in/', format: 'csv' } }),
      fields: spec({ name: 'fields', quality: { required: ['missing'], ranges: [{ field: 'user_id' }] } }),
      merging: spec({ name: 'merging', state: { merge: { Clicks: 'sum', user_id: 'avg' } }, source: { type: 'kafka', topic: 'm', format: 'json' }, rejects: { type: 'kafka', topic: 'm.dlq' } }),
    });
    expect(await problemsOf(dir)).toEqual([
      "pipelines/batch/pipeline.ts schedule: must be a cron schedule with 5 fields (minute, hour, day of month, month, day of week), it has 6",
      "pipelines/batch/pipeline.ts source.file: is required for a batch pipeline, so that a run reads exactly its day's file (e.g. 'sales_{yyyymmdd}.csv')",
      "pipelines/clicks/pipeline.ts sink.type: must be a sink: { type: 'kafka', topic }, { type: 's3', bucket, prefix } or { type: 'hdfs', path }",
      "pipelines/fields/pipeline.ts quality.required.0: must be a field of the schema (user_id, clicked_at)",
      'pipelines/fields/pipeline.ts quality.ranges.0: must set min, max or both',
      'pipelines/fields/pipeline.ts quality.ranges.0.field: must be an integer or double field to have a range, it is a string',
      'pipelines/merging/pipeline.ts state.merge.Clicks: must be a lower-case identifier such as store_id',
      'pipelines/merging/pipeline.ts state.merge.user_id: must be one of "sum", "min", "max"',
      'pipelines/nightly/pipeline.ts kind: must be one of "streaming", "batch"',
      'pipelines/nightly/pipeline.ts cron: is not a known field (known: name, description, kind, triggerSeconds, schedule, source, references, schema, quality, steps, window, state, sink, rejects, spark, topics, alerts)',
      "pipelines/payments/pipeline.ts rejects.type: must be a dead-letter location: { type: 'kafka', topic } or { type: 's3', bucket, prefix }",
      'pipelines/topics/pipeline.ts source.topic: must be a Kafka topic name of lower-case letters and digits, separated by single dots or dashes',
    ]);
  });

  it('checks the rules that relate fields', async () => {
    const dir = pipelinesDir({
      stream: spec({ name: 'stream', triggerSeconds: undefined, schedule: '0 2 * * *' }),
      batch: spec({ name: 'batch', kind: 'batch', triggerSeconds: undefined, schedule: '0 2 * * *' }),
      loop: spec({ name: 'loop', rejects: { type: 'kafka', topic: 'clicks' }, source: { type: 'kafka', topic: 'clicks-in', format: 'json' }, sink: { type: 'kafka', topic: 'clicks' } }),
      window: spec({ name: 'window', window: { column: 'user_id', unit: 'minute', watermarkMinutes: 1 }, state: undefined, source: { type: 'kafka', topic: 'w', format: 'json' }, rejects: { type: 'kafka', topic: 'w.dlq' } }),
      unkept: spec({ name: 'unkept', state: undefined, source: { type: 'kafka', topic: 'k', format: 'json' }, rejects: { type: 'kafka', topic: 'k.dlq' } }),
      windowed: spec({ name: 'windowed', window: { column: 'clicked_at', unit: 'minute', watermarkMinutes: 1 }, source: { type: 'kafka', topic: 'v', format: 'json' }, rejects: { type: 'kafka', topic: 'v.dlq' } }),
      keyed: spec({ name: 'keyed', state: { merge: { user_id: 'max' } }, sink: { type: 'hdfs', path: '/data/keyed', partitionBy: ['user_id'] }, source: { type: 'kafka', topic: 'y', format: 'json' }, rejects: { type: 'kafka', topic: 'y.dlq' } }),
      echo: spec({ name: 'echo', source: { type: 'kafka', topic: 'e', format: 'json' }, sink: { type: 'kafka', topic: 'e' }, rejects: { type: 'kafka', topic: 'e.dlq' } }),
      untopiced: spec({ name: 'untopiced', topics: undefined, source: { type: 'kafka', topic: 'u', format: 'json' }, rejects: { type: 'kafka', topic: 'u.dlq' } }),
      elsewhere: spec({ name: 'elsewhere', spark: { trial: { executorInstances: 2 }, nowhere: { executorInstances: 2 } }, topics: { partitions: { gone: 3 } }, source: { type: 'kafka', topic: 'x', format: 'json' }, rejects: { type: 'kafka', topic: 'x.dlq' } }),
      ranged: spec({ name: 'ranged', quality: { required: [], ranges: [{ field: 'user_id', min: 0 }] }, source: { type: 'kafka', topic: 'g', format: 'json' }, rejects: { type: 'kafka', topic: 'g.dlq' } }),
      shadow: spec({ name: 'shadow', steps: ['source.sql'], source: { type: 'kafka', topic: 'h', format: 'json' }, rejects: { type: 'kafka', topic: 'h.dlq' } }),
      keyless: spec({ name: 'keyless', ...windowed('k'), sink: { type: 'kafka', topic: 'k-out' } }),
      windowless: spec({ name: 'windowless', ...windowed('l'), sink: { type: 'kafka', topic: 'l-out', key: ['user_id'] } }),
      summarized: spec({ name: 'summarized', ...windowed('m'), sink: { type: 'kafka', topic: 'm-out', key: ['window_start', 'user_id'] } }),
    }, ['sessions.sql', 'source.sql']);
    expect(await problemsOf(dir)).toEqual([
      "pipelines/batch/pipeline.ts source.type: must be 's3' for a batch pipeline",
      "pipelines/batch/pipeline.ts state: is only for streaming pipelines (a batch run sees all its records at once)",
      'pipelines/echo/pipeline.ts sink.topic: must differ from source.topic, or the pipeline would read its own output again',
      'pipelines/elsewhere/pipeline.ts spark.nowhere: must be named after an environment in environments/ (lab, trial, live)',
      'pipelines/elsewhere/pipeline.ts topics.partitions.gone: must be named after an environment in environments/ (lab, trial, live)',
      'pipelines/keyed/pipeline.ts state.merge.user_id: must not merge a sink.partitionBy column: the state is kept per sink partition, so user_id is part of its key',
      "pipelines/keyless/pipeline.ts sink.key: is required for a windowed pipeline writing to Kafka: the columns that identify a summary, such as ['window_start', 'city']",
      'pipelines/loop/pipeline.ts rejects.topic: must differ from sink.topic, or the pipeline would read its own dead letters again',
      'pipelines/ranged/pipeline.ts quality.ranges.0.field: must be an integer or double field to have a range, it is a string',
      "pipelines/shadow/pipeline.ts steps.0: must not be named like the view 'source' the steps already read",
      'pipelines/stream/pipeline.ts triggerSeconds: is required for a streaming pipeline',
      'pipelines/stream/pipeline.ts schedule: must be absent for a streaming pipeline (it runs continuously)',
      "pipelines/unkept/pipeline.ts state: is required for a streaming pipeline without a window: say how the first step's rows merge with the state kept so far, e.g. { merge: { occurrences: 'sum' } }",
      'pipelines/window/pipeline.ts window.column: must be a timestamp field of the schema',
      'pipelines/windowed/pipeline.ts state: must be absent with a window (Spark keeps the state of a window until the watermark passes it)',
      "pipelines/windowless/pipeline.ts sink.key: must include 'window_start': a summary is one window's",
    ]);
  });

  it('rejects a topic used by two pipelines', async () => {
    const dir = pipelinesDir({ clicks: spec(), replay: spec({ name: 'replay', sink: { type: 's3', bucket: 'curated', prefix: 'replay/' }, rejects: { type: 'kafka', topic: 'replay.dlq' } }) });
    expect(await problemsOf(dir)).toEqual([
      "pipelines/clicks/pipeline.ts source.topic: must not use a topic that pipeline 'replay' also uses: each topic belongs to one pipeline",
      "pipelines/replay/pipeline.ts source.topic: must not use a topic that pipeline 'clicks' also uses: each topic belongs to one pipeline",
    ]);
  });

  it('requires a pipeline.ts exporting `pipeline` in every folder, named like its folder, with its SQL steps', async () => {
    const dir = pipelinesDir({ empty: undefined, noexport: 'export const spec = {};', renamed: spec({ name: 'other', source: { type: 'kafka', topic: 'r', format: 'json' }, rejects: { type: 'kafka', topic: 'r.dlq' } }) });
    const missingStep = pipelinesDir({ clicks: spec({ steps: ['sessions.sql', 'missing.sql'] }) });
    expect(await problemsOf(dir)).toEqual([
      'pipelines/empty/pipeline.ts : must exist: every folder under pipelines/ declares one pipeline',
      "pipelines/noexport/pipeline.ts : must export the spec: export const pipeline = { name: 'noexport', ... } satisfies PipelineInput",
      "pipelines/renamed/pipeline.ts name: must be 'renamed', the name of its folder",
    ]);
    expect(await problemsOf(missingStep)).toEqual(['pipelines/clicks/pipeline.ts steps.1: must be a file in pipelines/clicks/']);
  });

  it('requires the shared runtime', async () => {
    const dir = pipelinesDir({ clicks: spec() });
    rmSync(join(dir, 'runtime'), { recursive: true });
    expect(await problemsOf(dir)).toEqual(['pipelines/runtime/driftless_runtime.py : must exist: every pipeline runs it']);
  });
});
