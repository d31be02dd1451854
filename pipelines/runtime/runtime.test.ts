import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnvironments } from '../../environments/load';
import { RUNTIME_ENTRY } from '../job-code';
import { jobSpec, type JobSpec } from '../job-spec';
import { loadPipelines } from '../load';

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

let specs: JobSpec[] = [];
beforeAll(async () => {
  const pipelines = await loadPipelines();
  specs = (await loadEnvironments()).flatMap((env) => pipelines.map((pipeline) => jobSpec(env, pipeline)));
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

  it('would notice a misspelt field', () => {
    const misspelt = join(scratch, 'misspelt.py');
    writeFileSync(misspelt, 'def f(job):\n    return job["checkpointURI"], job["sink"].get("partitionby"), job["fields"][0]["name"]\n');
    expect(unknownReads(misspelt)).toEqual(["job['checkpointURI']", "job['sink'].get('partitionby')"]);
  });
});
