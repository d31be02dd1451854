/**
 * The pinned IaC toolchain: OpenTofu and the Terraform providers the stacks use, built with Go from the Go module
 * proxy into the cache (`<cache>/iac`), and re-used offline.
 *
 * Each tool is a small wrapper module in `scripts/toolchain/go/<tool>/`: its go.mod names the tool's module at one
 * version and its go.sum pins every module of the build by checksum, so the build downloads nothing unverified
 * (the checksum database is not reachable from the CI machines; go.sum is the pin). A wrapper module is needed
 * because a `replace` directive only applies in the main module: OpenTofu's own go.mod has one, which ours repeats.
 *
 * The providers are handed to OpenTofu by a CLI configuration (`<cache>/iac/tofu.rc`, `TF_CLI_CONFIG_FILE`) that
 * installs them from a filesystem mirror and from nowhere else, and every configuration the tools run is given
 * the built versions by an override file: see `PROVIDERS` for why they differ from the versions the stacks pin.
 */
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../command-line';
import { PROJECT_ROOT } from '../project-copy';
import { runCommand, tail } from '../run-command';

/** Where the wrapper modules are, relative to the project root. */
export const GO_MODULES_DIR = 'scripts/toolchain/go';

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
    const target = builtBinary(iac, tool);
    const digest = moduleDigest(root, tool, go.version);
    if (existsSync(target) && readMarker(target) === digest) continue;
    const started = Date.now();
    log(`building ${tool} from ${GO_MODULES_DIR}/${tool} with ${go.version} (the AWS provider takes half an hour or more on two cores)`);
    await goBuild(go.binary, cache, join(root, GO_MODULES_DIR, tool), target);
    writeFileSync(`${target}.driftless-installed`, `${digest}\n`);
    log(`built ${tool} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
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

async function requireGo(root: string): Promise<{ binary: string; version: string }> {
  const binary = process.env['DRIFTLESS_GO'] ?? 'go';
  const result = await runCommand(binary, ['env', 'GOVERSION'], { cwd: root, env: { ...process.env, GOTOOLCHAIN: 'local' } });
  const version = result.stdout.trim();
  const [, major, minor] = /^go(\d+)\.(\d+)/.exec(version) ?? [];
  if (result.code !== 0 || !(Number(major) === 1 && Number(minor) >= 26)) {
    throw new UsageError(
      `the IaC toolchain is built with Go 1.26 or newer (OpenTofu 1.12 and the providers need it), found ${result.code === 0 ? version : `no '${binary}'`}: install Go 1.26+ and put go on PATH (or set DRIFTLESS_GO)`,
    );
  }
  return { binary, version };
}

/** Digest of what decides a build: the wrapper module's files and the Go version. */
function moduleDigest(root: string, tool: string, goVersion: string): string {
  const hash = createHash('sha256').update(goVersion);
  const dir = join(root, GO_MODULES_DIR, tool);
  for (const file of readdirSync(dir).sort()) hash.update(file).update(readFileSync(join(dir, file)));
  return hash.digest('hex');
}

function readMarker(target: string): string | undefined {
  const marker = `${target}.driftless-installed`;
  return existsSync(marker) ? readFileSync(marker, 'utf8').trim() : undefined;
}

async function goBuild(go: string, cache: string, moduleDir: string, target: string): Promise<void> {
  const tools = readFileSync(join(moduleDir, 'tools.go'), 'utf8');
  const pkg = /import _ "([^"]+)"/.exec(tools)?.[1];
  if (pkg === undefined) throw new Error(`${join(moduleDir, 'tools.go')} imports no package to build`);
  mkdirSync(join(target, '..'), { recursive: true });
  const env = {
    ...process.env,
    GOMODCACHE: join(cache, 'go', 'mod'),
    GOCACHE: join(cache, 'go', 'build'),
    // go.sum is the pin: a module it does not list is an error, and the checksum database is not reachable.
    GOFLAGS: '-mod=readonly',
    GOSUMDB: 'off',
    GOTOOLCHAIN: 'local',
    CGO_ENABLED: '0',
  };
  // -trimpath and no VCS stamp: the same sources give the same binary on every machine.
  const result = await runCommand(go, ['build', '-trimpath', '-buildvcs=false', '-ldflags=-s -w', '-o', `${target}.partial`, pkg], { cwd: moduleDir, env });
  if (result.code !== 0) {
    rmSync(`${target}.partial`, { force: true });
    throw new Error(`go build of ${pkg} failed (exit ${result.code ?? 'by a signal'}):\n${tail(result.stderr || result.stdout)}`);
  }
  renameSync(`${target}.partial`, target);
}

function writeIfChanged(file: string, content: string): void {
  if (existsSync(file) && readFileSync(file, 'utf8') === content) return;
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(`${file}.partial`, content);
  renameSync(`${file}.partial`, file);
}
