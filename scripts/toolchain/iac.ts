/**
 * The pinned IaC toolchain: OpenTofu and the Terraform providers the stacks use, built with Go from the Go module
 * proxy into the cache (`<cache>/iac`), and re-used offline.
 *
 * Each tool is a wrapper module in `scripts/toolchain/go/<tool>/`, built by go-build.ts.
 *
 * The providers are handed to OpenTofu by a CLI configuration (`<cache>/iac/tofu.rc`, `TF_CLI_CONFIG_FILE`) that
 * installs them from a filesystem mirror and from nowhere else, and every configuration the tools run is given
 * the built versions by an override file: see `PROVIDERS` for why they differ from the versions the stacks pin.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../command-line';
import { PROJECT_ROOT } from '../project-copy';
import { runCommand, tail } from '../run-command';
import { buildGoTool, requireGo } from './go-build';

/** A provider as the stacks name it, and as built. */
export interface ProviderBuild {
  /** The wrapper module's folder in GO_MODULES_DIR. */
  readonly module: string;
  /** The provider's address as the stacks write it (`required_providers.<name>.source`). */
  readonly name: string;
  readonly namespace: 'hashicorp';
  /** The version the stacks pin (the cdktf bindings' provider version). */
  readonly pinned: string;
  /** The release the built source is, as its own files say (version/VERSION, CHANGELOG). */
  readonly built: string;
}

/**
 * The providers. The Go module proxy the machines reach serves one snapshot of each provider's source, not the
 * releases the stacks pin (hashicorp/aws 6.25.0, kubernetes 2.38.0, helm 3.1.1: the proxy answers "This module
 * version is not available" for the commits of those tags). So the tests build the nearest source the proxy has
 * and say so: the provider schemas only grow within a major version, so a configuration valid for the pinned
 * release stays valid for these (kubernetes 3 removed only the deprecated resources without a `_v1` suffix,
 * which the stacks do not use). Production keeps the pinned releases from the registry; moving a pin is a change
 * of `@cdktf/provider-*` in package.json and of the wrapper module here.
 */
export const PROVIDERS: readonly ProviderBuild[] = [
  // Commit 5f2286d6 of 2026-06-02: version/VERSION says 6.47.1.
  { module: 'terraform-provider-aws', name: 'aws', namespace: 'hashicorp', pinned: '6.25.0', built: '6.47.1' },
  // Commit 3a33fb6c of 2026-08-21: tag v3.2.1 and a gRPC security update.
  { module: 'terraform-provider-kubernetes', name: 'kubernetes', namespace: 'hashicorp', pinned: '2.38.0', built: '3.2.1' },
  // Commit a4f1c1d8 of 2026-06-29: release 3.2.0 (June 4) and fixes after it.
  { module: 'terraform-provider-helm', name: 'helm', namespace: 'hashicorp', pinned: '3.1.1', built: '3.2.0' },
];

/** The registry host OpenTofu gives a provider source without one (`aws` → registry.opentofu.org/hashicorp/aws). */
const REGISTRY_HOST = 'registry.opentofu.org';
const PLATFORM = 'linux_amd64';

/** What the installed IaC toolchain offers. */
export interface IacToolchain {
  /** The OpenTofu binary. */
  readonly tofu: string;
  /** The CLI configuration that installs the providers from the mirror only (`TF_CLI_CONFIG_FILE`). */
  readonly cliConfig: string;
  /** `TF_CLI_CONFIG_FILE` and the plugin cache, for every tofu command. */
  readonly env: Readonly<Record<string, string>>;
  /** The override file that gives a configuration the built provider versions; write it beside cdk.tf.json. */
  readonly versionOverride: string;
  /** The lock file of the built providers (hashes of the mirror's binaries). */
  readonly lockFile: string;
}

/** The name of the override file (Terraform and OpenTofu merge `*_override.tf.json` into the configuration). */
export const VERSION_OVERRIDE_FILE = 'driftless_toolchain_override.tf.json';

/** Builds what is missing or changed and returns the toolchain. */
export async function installIac(cache: string, log: (line: string) => void, root = PROJECT_ROOT): Promise<IacToolchain> {
  const go = await requireGo(root);
  const iac = join(cache, 'iac');
  for (const tool of ['opentofu', ...PROVIDERS.map((provider) => provider.module)]) {
    await buildGoTool(go, cache, root, tool, builtBinary(iac, tool), log, ' (the AWS provider takes half an hour or more on two cores)');
  }
  const toolchain = iacAt(iac);
  await writeLockFile(toolchain, iac);
  return toolchain;
}

/**
 * The dependency lock file of the built providers (`<cache>/iac/.terraform.lock.hcl`), written by OpenTofu from the
 * mirror: every working folder starts from it, so `init` verifies the providers it links against what was built.
 */
async function writeLockFile(toolchain: IacToolchain, iac: string): Promise<void> {
  const dir = join(iac, 'lock');
  mkdirSync(dir, { recursive: true });
  writeIfChanged(join(dir, 'providers.tf.json'), `${JSON.stringify(versionOverrideJson(), null, 2)}\n`);
  const result = await runCommand(
    toolchain.tofu,
    [`-chdir=${dir}`, 'providers', 'lock', `-fs-mirror=${join(iac, 'mirror')}`, `-platform=${PLATFORM}`, ...PROVIDERS.map((provider) => `${provider.namespace}/${provider.name}`)],
    { cwd: dir, env: { ...process.env, ...toolchain.env } },
  );
  if (result.code !== 0) throw new Error(`tofu providers lock failed (exit ${result.code ?? 'by a signal'}):\n${tail(result.stderr || result.stdout)}`);
  copyFileSync(join(dir, LOCK_FILE), toolchain.lockFile);
}

const LOCK_FILE = '.terraform.lock.hcl';

/** The toolchain as built, without building: a missing part is a one-line error that says how to build it. */
export function installedIac(cache: string): IacToolchain {
  const iac = join(cache, 'iac');
  const missing = ['opentofu', ...PROVIDERS.map((provider) => provider.module)].filter((tool) => !existsSync(builtBinary(iac, tool)));
  if (!existsSync(join(iac, LOCK_FILE))) missing.push('the providers\' lock file');
  if (missing.length > 0) throw new UsageError(`${missing.join(', ')} of the pinned IaC toolchain are not built in ${iac}: run 'npm run toolchain'`);
  return iacAt(iac);
}

function iacAt(iac: string): IacToolchain {
  const mirror = join(iac, 'mirror');
  for (const provider of PROVIDERS) {
    // The layout OpenTofu's filesystem mirror reads: <host>/<namespace>/<type>/<version>/<platform>/terraform-provider-<type>_v<version>.
    const folder = join(mirror, REGISTRY_HOST, provider.namespace, provider.name, provider.built, PLATFORM);
    const file = join(folder, `terraform-provider-${provider.name}_v${provider.built}`);
    if (!existsSync(file)) {
      mkdirSync(folder, { recursive: true });
      copyFileSync(builtBinary(iac, provider.module), `${file}.partial`);
      chmodSync(`${file}.partial`, 0o755);
      renameSync(`${file}.partial`, file);
    }
  }
  const cliConfig = join(iac, 'tofu.rc');
  mkdirSync(join(iac, 'plugin-cache'), { recursive: true });
  // The mirror and nothing else: no registry is reachable, and a provider that is not built must fail, not download.
  writeIfChanged(
    cliConfig,
    [
      // Every working folder links the providers from here instead of copying them (the AWS provider is over 600 MB).
      `plugin_cache_dir = ${JSON.stringify(join(iac, 'plugin-cache'))}`,
      'provider_installation {',
      '  filesystem_mirror {',
      `    path    = ${JSON.stringify(mirror)}`,
      `    include = [${PROVIDERS.map((provider) => JSON.stringify(`${REGISTRY_HOST}/${provider.namespace}/${provider.name}`)).join(', ')}]`,
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const versionOverride = join(iac, VERSION_OVERRIDE_FILE);
  writeIfChanged(versionOverride, `${JSON.stringify(versionOverrideJson(), null, 2)}\n`);
  return {
    tofu: builtBinary(iac, 'opentofu'),
    cliConfig,
    env: { TF_CLI_CONFIG_FILE: cliConfig, CHECKPOINT_DISABLE: '1' },
    versionOverride,
    lockFile: join(iac, LOCK_FILE),
  };
}

/** `terraform.required_providers` with the built versions, merged by OpenTofu over the stack's own. */
export function versionOverrideJson(): unknown {
  return {
    '//': 'Written by the driftless toolchain (scripts/toolchain/iac.ts): the providers built for the tests, not the pinned releases.',
    terraform: {
      required_providers: Object.fromEntries(
        PROVIDERS.map((provider) => [provider.name, { source: `${provider.namespace}/${provider.name}`, version: provider.built }]),
      ),
    },
  };
}

/** Copies the version override and the lock file of the built providers into a stack's working folder. */
export function addVersionOverride(toolchain: IacToolchain, stackDir: string): void {
  copyFileSync(toolchain.versionOverride, join(stackDir, VERSION_OVERRIDE_FILE));
  copyFileSync(toolchain.lockFile, join(stackDir, LOCK_FILE));
}

function builtBinary(iac: string, tool: string): string {
  return join(iac, 'bin', tool === 'opentofu' ? 'tofu' : tool);
}

function writeIfChanged(file: string, content: string): void {
  if (existsSync(file) && readFileSync(file, 'utf8') === content) return;
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(`${file}.partial`, content);
  renameSync(`${file}.partial`, file);
}
