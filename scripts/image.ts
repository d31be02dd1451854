/**
 * `npm run image -- --env <name>`: where the environment's pipeline image (pipelines/runtime/Dockerfile) goes, as
 * `key=value` lines a workflow appends to `$GITHUB_OUTPUT`: the registry, the repository, the content tag and the
 * whole reference, the same the synthesized manifests name.
 */
import { loadEnvironments } from '../environments/load';
import { pipelineImageRepository } from '../environments/naming';
import { ConfigError } from '../environments/problem';
import { pipelineImage, pipelineImageTag, registryHost } from '../pipelines/runtime/image';
import { ENV_OPTION, environmentOption, parseCommandLine, runScript, UsageError, type ScriptOutput } from './command-line';

const USAGE = 'usage: npm run image -- --env <name> (an environment: a file in environments/)';

export async function main(args: readonly string[], io: ScriptOutput): Promise<number> {
  try {
    const name = environmentOption(parseCommandLine(args, { env: ENV_OPTION }));
    const env = (await loadEnvironments()).find((e) => e.name === name)!;
    const tag = pipelineImageTag();
    io.out([`registry=${registryHost(env)}`, `repository=${pipelineImageRepository(env.name)}`, `tag=${tag}`, `image=${pipelineImage(env, tag)}`, ''].join('\n'));
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`image: ${error.message}${error.showUsage ? `\n${USAGE}` : ''}`);
      return 1;
    }
    if (error instanceof ConfigError) {
      io.err(`image: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

if (typeof require !== 'undefined' && require.main === module) runScript('image', main);
