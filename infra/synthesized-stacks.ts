import { rmSync } from 'node:fs';
import { Testing, type TerraformStack } from 'cdktf';
import type { EnvironmentName } from '../environments/schema';
import type { Environment } from '../environments/schema';
import type { Pipeline } from '../pipelines/schema';
import { addEnvironmentStacks } from './main';

/** One block of a synthesized stack: resource or data source arguments as Terraform JSON has them. */
export type Block = Record<string, any>;

/** A synthesized stack's Terraform JSON, with helpers to find blocks by type (never by position). */
export interface SynthesizedStack {
  readonly construct: TerraformStack;
  readonly json: {
    readonly terraform: Block;
    readonly provider: Record<string, Block[]>;
    readonly resource?: Record<string, Record<string, Block>>;
    readonly data?: Record<string, Record<string, Block>>;
  };
  /** Every resource of a type, keyed by its Terraform name. */
  resources(type: string): Record<string, Block>;
  /** Every data source of a type, keyed by its Terraform name. */
  dataSources(type: string): Record<string, Block>;
}

/**
 * Synthesizes the stacks of one environment as the tests see them: through cdktf's `Testing.synth` with
 * validations on. For tests only; `npm run synth` writes files through `synthesizeInfra`.
 */
export function synthesizeStacks(env: Environment, pipelines: readonly Pipeline[]): Map<string, SynthesizedStack> {
  const app = Testing.app();
  try {
    addEnvironmentStacks(app, env, pipelines);
    const stacks = app.node.children.filter((c): c is TerraformStack => 'dependencies' in c);
    return new Map(
      stacks.map((construct) => {
        const json = JSON.parse(Testing.synth(construct, true)) as SynthesizedStack['json'];
        return [
          construct.node.id,
          { construct, json, resources: (type) => json.resource?.[type] ?? {}, dataSources: (type) => json.data?.[type] ?? {} },
        ];
      }),
    );
  } finally {
    // Testing.app() makes a folder in os.tmpdir() (with an empty `stacks/` in it) that Testing.synth never
    // writes to, so it can go as soon as the JSON is in memory. Not at process exit: vitest stops its
    // workers with SIGTERM, which skips 'exit' listeners, and that left one folder per call behind.
    rmSync(app.outdir, { recursive: true, force: true });
  }
}

/** The stack `<env>-<kind>` from a map made by synthesizeStacks. */
export function stackOf(stacks: Map<string, SynthesizedStack>, env: EnvironmentName, kind: string): SynthesizedStack {
  const stack = stacks.get(`${env}-${kind}`);
  if (stack === undefined) throw new Error(`no stack ${env}-${kind}`);
  return stack;
}
