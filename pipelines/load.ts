import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, type Problem } from '../environments/problem';
import { describeIssues, type Locate } from '../environments/validate';
import { Pipeline } from './schema';

/** The folder that holds one sub-folder per pipeline. */
export const PIPELINES_DIR = __dirname;

/**
 * Finds every `pipelines/<name>/pipeline.ts`, validates it and returns the pipelines sorted by name.
 * Adding a pipeline is adding a folder: nothing in infra/ or k8s/ lists them.
 * @throws ConfigError listing every problem in every pipeline.
 */
export async function loadPipelines(dir: string = PIPELINES_DIR): Promise<Pipeline[]> {
  const folders = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
  const problems: Problem[] = [];
  const pipelines: Pipeline[] = [];
  for (const folder of folders) {
    const file = `pipelines/${folder}/pipeline.ts`;
    const subject = `pipeline '${folder}'`;
    const located: Locate = (field, value, rule) => ({ subject, file, field, value, rule });
    const path = join(dir, folder, 'pipeline.ts');
    if (!existsSync(path)) {
      problems.push(located('', undefined, 'must exist: every folder under pipelines/ declares one pipeline'));
      continue;
    }
    const declared: unknown = ((await import(pathToFileURL(path).href)) as { pipeline?: unknown }).pipeline;
    if (declared === undefined) {
      problems.push(located('', undefined, "must export the spec as 'export const pipeline = { ... } satisfies PipelineInput'"));
      continue;
    }
    const parsed = Pipeline.safeParse(declared);
    if (!parsed.success) {
      problems.push(...describeIssues(Pipeline, parsed.error.issues, declared, located));
    } else if (parsed.data.name !== folder) {
      problems.push(located('name', parsed.data.name, `must be '${folder}', the name of its folder`));
    } else {
      pipelines.push(parsed.data);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return pipelines;
}
