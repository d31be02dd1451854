import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { environmentNames, importDeclaration } from '../environments/load';
import { ConfigError, type Problem } from '../environments/problem';
import { crossFieldProblems, describeIssues, type Locate } from '../environments/validate';
import { readJobCode, RUNTIME_ENTRY, RUNTIME_FOLDER, type JobCode } from './job-code';
import { overlap, PIPELINE_RULES, topicFields, writtenLocations } from './rules';
import { Pipeline } from './schema';
import { sqlSubsetProblems } from './sql-subset';

/** A validated pipeline with the code its Spark job runs. */
export type LoadedPipeline = Pipeline & { readonly code: JobCode };

/** The folder that holds one sub-folder per pipeline. */
export const PIPELINES_DIR = __dirname;

/** The pipeline folders under `dir`: every folder but the shared runtime and hidden ones (a staged copy), by name. */
export function pipelineFolders(dir: string = PIPELINES_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.') && entry.name !== RUNTIME_FOLDER)
    .map((entry) => entry.name)
    .sort();
}

/**
 * Finds every `pipelines/<name>/pipeline.ts`, validates it and returns the pipelines sorted by name.
 * Adding a pipeline is adding a folder: nothing in infra/ or k8s/ lists them.
 * @param environments the environments a spec may size itself for (its `spark` and `topics.partitions` keys).
 * @param runtimeDir the folder of the shared runtime, `runtime` beside the pipeline folders unless given.
 * @throws ConfigError listing every problem in every pipeline.
 */
export async function loadPipelines(
  dir: string = PIPELINES_DIR,
  environments: readonly string[] = environmentNames(),
  runtimeDir: string = join(dir, RUNTIME_FOLDER),
): Promise<LoadedPipeline[]> {
  const folders = pipelineFolders(dir);
  const problems: Problem[] = [];
  const pipelines: LoadedPipeline[] = [];
  const runtime = join(runtimeDir, RUNTIME_ENTRY);
  if (!existsSync(runtime)) {
    throw new ConfigError([{ subject: 'the pipeline runtime', file: `pipelines/${RUNTIME_FOLDER}/${RUNTIME_ENTRY}`, field: '', value: undefined, rule: 'must exist: every pipeline runs it' }]);
  }
  for (const folder of folders) {
    const file = `pipelines/${folder}/pipeline.ts`;
    const subject = `pipeline '${folder}'`;
    const located: Locate = (field, value, rule) => ({ subject, file, field, value, rule });
    const path = join(dir, folder, 'pipeline.ts');
    if (!existsSync(path)) {
      problems.push(located('', undefined, 'must exist: every folder under pipelines/ declares one pipeline'));
      continue;
    }
    const loaded = await importDeclaration(path, file, subject, 'pipeline', `must export the spec: export const pipeline = { name: '${folder}', ... } satisfies PipelineInput`);
    if ('problems' in loaded) {
      problems.push(...loaded.problems);
      continue;
    }
    const declared = loaded.value;
    const parsed = Pipeline.safeParse(declared);
    const fieldLevel = parsed.success ? [] : describeIssues(Pipeline, parsed.error.issues, declared, located);
    const found = [
      ...fieldLevel,
      ...crossFieldProblems(PIPELINE_RULES, declared as Pipeline, fieldLevel.map((p) => p.field), located),
      ...(parsed.success ? [...fileProblems(parsed.data, join(dir, folder), folder, located), ...environmentKeyProblems(parsed.data, environments, located)] : []),
    ];
    problems.push(...found);
    if (parsed.success && found.length === 0) pipelines.push({ ...parsed.data, code: readJobCode(parsed.data, dir, runtimeDir) });
  }
  problems.push(...sharedTopics(pipelines), ...sharedOutputs(pipelines));
  if (problems.length > 0) throw new ConfigError(problems);
  return pipelines;
}

/** The name must match the folder, and every SQL step must be a file in it, in the SQL that Spark and DuckDB share. */
function fileProblems(pipeline: Pipeline, folderPath: string, folder: string, located: Locate): Problem[] {
  return [
    ...(pipeline.name === folder ? [] : [located('name', pipeline.name, `must be '${folder}', the name of its folder`)]),
    ...pipeline.steps.flatMap((step, index) =>
      existsSync(join(folderPath, step))
        ? sqlSubsetProblems(readFileSync(join(folderPath, step), 'utf8')).map((rule) => located(`steps.${index}`, step, rule))
        : [located(`steps.${index}`, step, `must be a file in pipelines/${folder}/`)],
    ),
  ];
}

/**
 * Sizing per environment must name environments that exist: an override for a renamed or deleted environment
 * would otherwise be ignored without a word, and the pipeline would run with the defaults.
 */
function environmentKeyProblems(pipeline: Pipeline, environments: readonly string[], located: Locate): Problem[] {
  const known = environments.length > 0 ? environments.join(', ') : 'there are none';
  return [
    ...Object.keys(pipeline.spark ?? {}).map((key) => ({ field: `spark.${key}`, key })),
    ...Object.keys(pipeline.topics?.partitions ?? {}).map((key) => ({ field: `topics.partitions.${key}`, key })),
  ]
    .filter(({ key }) => !environments.includes(key))
    .map(({ field, key }) => located(field, key, `must be named after an environment in environments/ (${known})`));
}

// Each topic belongs to one pipeline, which declares its partitions; two owners would fight over it.
function sharedTopics(pipelines: readonly Pipeline[]): Problem[] {
  const owners = new Map<string, string[]>();
  for (const pipeline of pipelines) for (const { topic } of topicFields(pipeline)) owners.set(topic, [...new Set([...(owners.get(topic) ?? []), pipeline.name])]);
  return pipelines.flatMap((pipeline) =>
    topicFields(pipeline).flatMap(({ field, topic }) => {
      const others = (owners.get(topic) ?? []).filter((name) => name !== pipeline.name);
      return others.length === 0
        ? []
        : [{
            subject: `pipeline '${pipeline.name}'`,
            file: `pipelines/${pipeline.name}/pipeline.ts`,
            field,
            value: topic,
            rule: `must not use a topic that pipeline '${others.join("', '")}' also uses: each topic belongs to one pipeline`,
          }];
    }),
  );
}

// Two pipelines writing under the same prefix would each overwrite the other's partitions.
function sharedOutputs(pipelines: readonly Pipeline[]): Problem[] {
  return pipelines.flatMap((pipeline) =>
    writtenLocations(pipeline).flatMap((mine) =>
      pipelines
        .filter((other) => other.name !== pipeline.name)
        .flatMap((other) => writtenLocations(other).filter((theirs) => overlap(mine, theirs)).map((theirs) => ({ other, theirs })))
        .map(({ other, theirs }) => ({
          subject: `pipeline '${pipeline.name}'`,
          file: `pipelines/${pipeline.name}/pipeline.ts`,
          field: mine.field,
          value: mine.written,
          rule: `must not overlap what pipeline '${other.name}' writes (${theirs.written}), or each would overwrite the other's files`,
        })),
    ),
  );
}
