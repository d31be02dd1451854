import { App } from 'cdktf';
import { loadEnvironments } from '../environments/load';
import { ConfigError } from '../environments/problem';
import type { Environment } from '../environments/schema';
import { loadPipelines } from '../pipelines/load';
import type { Pipeline } from '../pipelines/schema';
import { BootstrapStack } from './stacks/bootstrap-stack';
import { ClusterStack } from './stacks/cluster-stack';
import { DataLakeStack } from './stacks/data-lake-stack';
import { NetworkStack } from './stacks/network-stack';

/** Adds the four stacks of one environment, with dependencies in the order they must be applied. */
export function addEnvironmentStacks(app: App, env: Environment, pipelines: readonly Pipeline[]): void {
  const network = new NetworkStack(app, env);
  const dataLake = new DataLakeStack(app, env);
  const cluster = new ClusterStack(app, env, pipelines);
  const bootstrap = new BootstrapStack(app, env);
  dataLake.addDependency(network);
  cluster.addDependency(dataLake);
  bootstrap.addDependency(cluster);
}

/** Synthesizes the Terraform JSON of the given environments and pipelines into `outdir`. */
export function synthesizeInfra(environments: readonly Environment[], pipelines: readonly Pipeline[], outdir: string): void {
  // Stack traces in metadata would put this machine's paths into the output.
  const app = new App({ outdir, stackTraces: false, hclOutput: false });
  for (const env of environments) addEnvironmentStacks(app, env, pipelines);
  app.synth();
}

// Entry point of `cdktf synth|diff|deploy` (see cdktf.json): the CLI chooses the output folder.
if (typeof require !== 'undefined' && require.main === module) {
  Promise.all([loadEnvironments(), loadPipelines()])
    .then(([environments, pipelines]) => synthesizeInfra(environments, pipelines, process.env.CDKTF_OUTDIR ?? 'cdktf.out'))
    .catch((error: unknown) => {
      if (!(error instanceof ConfigError)) throw error;
      console.error(error.message);
      process.exitCode = 1;
    });
}
