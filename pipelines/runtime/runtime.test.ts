import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnvironments } from '../../environments/load';
import { fixtureEnvironments } from '../../scripts/fixtures/environments';
import { fixturePipelines } from '../../scripts/fixtures/pipelines';
import { RUNTIME_ENTRY } from '../job-code';
import { jobSpec, type JobSpec } from '../job-spec';
import { loadPipelines } from '../load';
import { Pipeline } from '../schema';

const RUNTIME = join(__dirname, RUNTIME_ENTRY);
const scratch = mkdtempSync(join(tmpdir(), 'driftless-runtime-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// Every string-keyed read of a dict in the runtime: `x["key"]` and `x.get("key")`, with the expression read from.
const ACCESSES = `
import ast, json, sys
accesses = []
for node in ast.walk(ast.parse(open(sys.argv[1]).read())):
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        accesses.append({"on": ast.unparse(node.value), "key": node.slice.value, "read": ast.unparse(node)})
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args \\
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        accesses.append({"on": ast.unparse(node.func.value), "key": node.args[0].value, "read": ast.unparse(node)})
print(json.dumps(accesses))
`;

interface Access {
  /** The expression read from, e.g. `job` or `job['sink']`. */
  readonly on: string;
  readonly key: string;
  /** The whole read, as Python writes it. */
  readonly read: string;
}

function accessesOf(file: string): Access[] {
  const script = join(scratch, 'accesses.py');
  writeFileSync(script, ACCESSES);
  return JSON.parse(execFileSync('python3', [script, file], { encoding: 'utf8' })) as Access[];
}

/** Every key at any depth of a JSON value. */
function keysIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysIn);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => [key, ...keysIn(inner)]);
}

/** Reads of `file` by a key that no job description has: top-level reads of `job` against its fields, others against every key. */
function unknownReads(file: string): string[] {
  const topLevel = new Set(specs.flatMap((spec) => Object.keys(spec)));
  const anywhere = new Set(specs.flatMap(keysIn));
  return accessesOf(file)
    .filter((a) => !(a.on === 'job' ? topLevel : anywhere).has(a.key))
    .map((a) => a.read);
}

// The job descriptions of the project's pipelines in its environments (however many of each there are) and of
// the fixture pipelines in the fixture environments, which have every shape the runtime branches on: a stream
// and a batch, Kafka and S3 sources, Kafka, S3 and HDFS sinks, dead letters to a topic and to a prefix, a
// reference table, an event-time window and the kept state of a stream without one.
let specs: JobSpec[] = [];
let fixtureSpecs: JobSpec[] = [];
beforeAll(async () => {
  const pipelines = await loadPipelines();
  const fixtures = await fixturePipelines();
  fixtureSpecs = fixtureEnvironments().flatMap((env) => fixtures.map((pipeline) => jobSpec(env, pipeline)));
  specs = [...(await loadEnvironments()).flatMap((env) => pipelines.map((pipeline) => jobSpec(env, pipeline))), ...fixtureSpecs];
});

describe('the PySpark runtime', () => {
  it('compiles', () => {
    // The byte code goes to the scratch folder, not next to the runtime.
    expect(() => execFileSync('python3', ['-m', 'py_compile', RUNTIME], { env: { ...process.env, PYTHONPYCACHEPREFIX: scratch }, stdio: 'pipe' })).not.toThrow();
  });

  it('fails the compile check on a syntax error', () => {
    const broken = join(scratch, 'broken.py');
    writeFileSync(broken, 'def main(:\n    pass\n');
    expect(() => execFileSync('python3', ['-m', 'py_compile', broken], { env: { ...process.env, PYTHONPYCACHEPREFIX: scratch }, stdio: 'pipe' })).toThrow();
  });

  it('reads every field of the job description', () => {
    const read = new Set(accessesOf(RUNTIME).filter((a) => a.on === 'job').map((a) => a.key));
    expect([...new Set(specs.flatMap((spec) => Object.keys(spec)))].filter((key) => !read.has(key))).toEqual([]);
  });

  it('reads no field that the job description lacks, at any depth', () => {
    expect(unknownReads(RUNTIME)).toEqual([]);
  });

  it('is checked against job descriptions of every shape it handles, whatever pipelines the project has', () => {
    const shapes = new Set(
      fixtureSpecs.flatMap((spec) => [
        `kind ${spec.kind}`,
        `source ${spec.source.type}`,
        `sink ${spec.sink.type}`,
        `rejects ${spec.rejects.type}`,
        ...(spec.window ? ['window'] : []),
        ...(spec.state ? ['state'] : []),
        ...(spec.references.length > 0 ? ['references'] : []),
        ...('partitionBy' in spec.sink && spec.sink.partitionBy ? ['partitioned sink'] : []),
        ...('file' in spec.source && spec.source.file ? ['source file'] : []),
      ]),
    );
    // Every kind and location type the pipeline schema admits, and each optional part the runtime acts on.
    const types = (union: { options: ReadonlyArray<{ shape: { type: { value: unknown } } }> }) => union.options.map((o) => String(o.shape.type.value));
    expect([...shapes].sort()).toEqual(
      [
        ...Pipeline.shape.kind.options.map((kind) => `kind ${kind}`),
        ...types(Pipeline.shape.source).map((type) => `source ${type}`),
        ...types(Pipeline.shape.sink).map((type) => `sink ${type}`),
        ...types(Pipeline.shape.rejects).map((type) => `rejects ${type}`),
        'window',
        'state',
        'references',
        'partitioned sink',
        'source file',
      ].sort(),
    );
  });

  it('would notice a misspelt field', () => {
    const misspelt = join(scratch, 'misspelt.py');
    writeFileSync(misspelt, 'def f(job):\n    return job["checkpointURI"], job["sink"].get("partitionby"), job["fields"][0]["name"]\n');
    expect(unknownReads(misspelt)).toEqual(["job['checkpointURI']", "job['sink'].get('partitionby')"]);
  });
});
