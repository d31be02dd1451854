import { when, type CrossFieldRule } from '../environments/rules';
import type { Pipeline } from './schema';

/** A place a pipeline writes files to: a bucket and key prefix, or the HDFS namespace and a path. */
export interface WrittenLocation {
  readonly field: string;
  readonly store: string;
  readonly prefix: string;
  /** The prefix or path as the spec writes it, for messages (an HDFS path has no trailing '/'). */
  readonly written: string;
}

/** Where a pipeline writes files: its sink and its dead letters (topics are covered by topicsOf). */
export function writtenLocations(pipeline: Pipeline): WrittenLocation[] {
  return [
    ['sink', pipeline.sink],
    ['rejects', pipeline.rejects],
  ].flatMap(([name, l]) => {
    const location = l as Pipeline['sink'];
    if (location.type === 's3') return [{ field: `${name}.prefix`, store: `s3:${location.bucket}`, prefix: location.prefix, written: location.prefix }];
    if (location.type === 'hdfs') return [{ field: `${name}.path`, store: 'hdfs', prefix: `${location.path}/`, written: location.path }];
    return [];
  });
}

/** Whether two written locations share files: the same store and one prefix inside the other. */
export const overlap = (a: WrittenLocation, b: WrittenLocation): boolean =>
  a.store === b.store && (a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix));

/** Every Kafka topic a pipeline touches: its source, its sink and its dead-letter topic. */
export function topicsOf(pipeline: Pipeline): string[] {
  return topicFields(pipeline).map((t) => t.topic);
}

/** The Kafka topics of a pipeline with the field that names each (`source.topic`, `sink.topic`, `rejects.topic`). */
export function topicFields(pipeline: Pipeline): Array<{ readonly field: string; readonly topic: string }> {
  return (['source', 'sink', 'rejects'] as const).flatMap((name) => {
    const location = pipeline[name];
    return location.type === 'kafka' ? [{ field: `${name}.topic`, topic: location.topic }] : [];
  });
}

const fieldNames = (pipeline: Pipeline) => pipeline.schema.map((f) => f.name);

/** Rules a pipeline must satisfy beyond the shape of its fields. */
export const PIPELINE_RULES: readonly CrossFieldRule<Pipeline>[] = [
  {
    reads: ['kind', 'triggerSeconds', 'schedule'],
    check: (p) =>
      p.kind === 'streaming'
        ? [
            ...when(p.triggerSeconds === undefined, { field: 'triggerSeconds', value: p.triggerSeconds, rule: 'is required for a streaming pipeline' }),
            ...when(p.schedule !== undefined, { field: 'schedule', value: p.schedule, rule: 'must be absent for a streaming pipeline (it runs continuously)' }),
          ]
        : [
            ...when(p.schedule === undefined, { field: 'schedule', value: p.schedule, rule: 'is required for a batch pipeline' }),
            ...when(p.triggerSeconds !== undefined, { field: 'triggerSeconds', value: p.triggerSeconds, rule: 'must be absent for a batch pipeline' }),
          ],
  },
  {
    reads: ['kind', 'source'],
    check: (p) =>
      when((p.kind === 'streaming') !== (p.source.type === 'kafka'), {
        field: 'source.type',
        value: p.source.type,
        rule: p.kind === 'streaming' ? "must be 'kafka' for a streaming pipeline" : "must be 's3' for a batch pipeline",
      }),
  },
  {
    reads: ['kind', 'source'],
    check: (p) =>
      when(p.source.type === 's3' && p.kind === 'batch' && p.source.file === undefined, {
        field: 'source.file',
        value: undefined,
        rule: "is required for a batch pipeline, so that a run reads exactly its day's file (e.g. 'sales_{yyyymmdd}.csv')",
      }),
  },
  {
    reads: ['kind', 'window'],
    check: (p) => when(p.window !== undefined && p.kind !== 'streaming', { field: 'window', value: p.window, rule: 'is only for streaming pipelines' }),
  },
  {
    // A stream without a window must keep its state merged, or each micro-batch would reread every record so far.
    reads: ['kind', 'window', 'state'],
    check: (p) =>
      p.kind === 'streaming' && p.window === undefined
        ? when(p.state === undefined, {
            field: 'state',
            value: undefined,
            rule: "is required for a streaming pipeline without a window: say how the first step's rows merge with the state kept so far, e.g. { merge: { occurrences: 'sum' } }",
          })
        : when(p.state !== undefined, {
            field: 'state',
            value: p.state,
            rule: p.kind === 'batch' ? 'is only for streaming pipelines (a batch run sees all its records at once)' : 'must be absent with a window (Spark keeps the state of a window until the watermark passes it)',
          }),
  },
  {
    reads: ['sink', 'state'],
    check: (p) => {
      const partitions = p.sink.type === 'kafka' ? [] : (p.sink.partitionBy ?? []);
      return Object.entries(p.state?.merge ?? {}).flatMap(([column, how]) =>
        when(partitions.includes(column), {
          field: `state.merge.${column}`,
          value: how,
          rule: `must not merge a sink.partitionBy column: the state is kept per sink partition, so ${column} is part of its key`,
        }),
      );
    },
  },
  {
    reads: ['schema'],
    check: (p) =>
      fieldNames(p).flatMap((name, index) =>
        when(fieldNames(p).indexOf(name) !== index, { field: `schema.${index}.name`, value: name, rule: 'must be unique among the fields' }),
      ),
  },
  {
    reads: ['schema', 'quality'],
    check: (p) => [
      ...p.quality.required.flatMap((name, index) =>
        when(!fieldNames(p).includes(name), { field: `quality.required.${index}`, value: name, rule: `must be a field of the schema (${fieldNames(p).join(', ')})` }),
      ),
      ...p.quality.ranges.flatMap((range, index) => [
        ...when(!fieldNames(p).includes(range.field), { field: `quality.ranges.${index}.field`, value: range.field, rule: `must be a field of the schema (${fieldNames(p).join(', ')})` }),
        ...when(range.min === undefined && range.max === undefined, { field: `quality.ranges.${index}`, value: range, rule: 'must set min, max or both' }),
        ...when(range.min !== undefined && range.max !== undefined && range.min > range.max, { field: `quality.ranges.${index}.min`, value: range.min, rule: `must not exceed max (${range.max})` }),
      ]),
    ],
  },
  {
    reads: ['schema', 'quality'],
    check: (p) =>
      p.quality.ranges.flatMap((range, index) => {
        const type = p.schema.find((f) => f.name === range.field)?.type;
        return when(type !== undefined && type !== 'integer' && type !== 'double', {
          field: `quality.ranges.${index}.field`,
          value: range.field,
          rule: `must be an integer or double field to have a range, it is a ${type}`,
        });
      }),
  },
  {
    reads: ['steps', 'references'],
    check: (p) => {
      // Views the runtime defines itself, and the reference tables: a step named like one would hide it.
      const taken = ['source', 'raw', 'run', ...(p.references ?? []).map((r) => r.as)];
      return p.steps.flatMap((step, index) => {
        const view = step.replace(/\.sql$/, '').replace(/-/g, '_');
        return when(taken.includes(view), { field: `steps.${index}`, value: step, rule: `must not be named like the view '${view}' the steps already read` });
      });
    },
  },
  {
    reads: ['schema', 'window'],
    check: (p) =>
      when(p.window !== undefined && p.schema.find((f) => f.name === p.window!.column)?.type !== 'timestamp', {
        field: 'window.column',
        value: p.window?.column,
        rule: 'must be a timestamp field of the schema',
      }),
  },
  {
    reads: ['steps'],
    check: (p) => p.steps.flatMap((step, index) => when(p.steps.indexOf(step) !== index, { field: `steps.${index}`, value: step, rule: 'must not repeat a step' })),
  },
  {
    // The Kafka sink is at least once: without a key a consumer cannot tell a window's summary sent again from another.
    reads: ['window', 'sink'],
    check: (p) => {
      if (p.window === undefined || p.sink.type !== 'kafka') return [];
      const key = p.sink.key;
      return key === undefined
        ? when(true, { field: 'sink.key', value: key, rule: "is required for a windowed pipeline writing to Kafka: the columns that identify a summary, such as ['window_start', 'city']" })
        : when(!key.includes('window_start'), { field: 'sink.key', value: key, rule: "must include 'window_start': a summary is one window's" });
    },
  },
  {
    reads: ['source', 'sink', 'rejects'],
    check: (p) =>
      topicFields(p).flatMap(({ field, topic }, index, all) => {
        const earlier = all.slice(0, index).find((other) => other.topic === topic);
        return when(earlier !== undefined, {
          field,
          value: topic,
          rule: `must differ from ${earlier?.field}, or the pipeline would read its own ${field.startsWith('rejects') ? 'dead letters' : 'output'} again`,
        });
      }),
  },
  {
    // Dead letters are JSON lines: inside the sink they would sit among its Parquet partitions and be overwritten with them.
    reads: ['sink', 'rejects'],
    check: (p) => {
      const [sink, rejects] = [writtenLocations(p).find((l) => l.field.startsWith('sink')), writtenLocations(p).find((l) => l.field.startsWith('rejects'))];
      return when(sink !== undefined && rejects !== undefined && overlap(sink, rejects), {
        field: rejects?.field ?? 'rejects',
        value: rejects?.written,
        rule: `must not overlap the sink (${sink?.written}): dead letters would be mixed with, and overwritten with, the output`,
      });
    },
  },
];
