/**
 * vitest globalSetup that makes `npm test` prove it leaves the temporary folder and the work tree as it found
 * them: the run gets a private temporary folder (TMPDIR, which os.tmpdir() reads and which workers and their
 * child processes inherit), and the run fails, naming each path, if anything is left there or has appeared,
 * changed or gone in the work tree.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, relative, sep } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The private temporary folder of this run, so a test can check that the redirection reached it. */
    runTemporaryFolder: string;
  }
}

/** os.tmpdir() reads TMPDIR on POSIX and TEMP or TMP on Windows. */
const TEMP_VARIABLES = ['TMPDIR', 'TEMP', 'TMP'] as const;

/** Most paths a report names, so that a mass leak stays readable. */
const REPORT_LIMIT = 100;

/**
 * The tsx compile cache: tsx (which runs the scripts the tests start) keeps it at os.tmpdir()/tsx-<uid> by
 * design and offers no other place for it. It is a cache, not a leftover; it goes with the run's folder.
 */
const TSX_CACHE = `tsx-${process.geteuid?.() ?? userInfo().username}`;

/** Every path under `root` (relative, folders ending in `/`) with what identifies its state, minus `skip`. */
export function listTree(root: string, skip: (path: string) => boolean = () => false): Map<string, string> {
  const tree = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const absolute = join(dir, name);
      const path = relative(root, absolute).split(sep).join('/');
      if (skip(path)) continue;
      const stat = lstatSync(absolute);
      if (stat.isDirectory()) {
        tree.set(`${path}/`, 'folder');
        walk(absolute);
      } else if (stat.isSymbolicLink()) {
        tree.set(path, `link to ${readlinkSync(absolute)}`);
      } else {
        // Size and mtime rather than content: cheap, and a later rewrite shows even with the same bytes.
        tree.set(path, `${stat.size} bytes, modified ${stat.mtimeMs}`);
      }
    }
  };
  walk(root);
  return tree;
}

/** The paths that appeared, changed or disappeared between two listings made by listTree. */
export function treeChanges(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] {
  const changes: [path: string, what: string][] = [];
  for (const [path, state] of after) {
    if (!before.has(path)) changes.push([path, 'new    ']);
    else if (before.get(path) !== state) changes.push([path, 'changed']);
  }
  for (const path of before.keys()) if (!after.has(path)) changes.push([path, 'removed']);
  return changes.sort(([a], [b]) => (a < b ? -1 : 1)).map(([path, what]) => `${what}  ${path}`);
}

/** Every path left in a run's temporary folder, except the tsx compile cache. */
export function temporaryLeftovers(folder: string): string[] {
  return [...listTree(folder, (path) => path === TSX_CACHE).keys()];
}

/**
 * The work tree `root` as far as a test could leave traces in it (node_modules, the toolchain's cache and Git's own
 * folder aside),
 * and the Git worktrees registered inside it or inside `temporaryFolder`: a leaked `git worktree add` also
 * leaves a registration in the repository. Worktrees elsewhere belong to other checkouts, which may add or
 * remove them while the run lasts.
 */
function workTree(root: string, temporaryFolder: string): Map<string, string> {
  const tree = listTree(root, (path) => path === 'node_modules' || path === '.git' || path === '.cache');
  // Git lists real paths; os.tmpdir() may lie behind a symbolic link (macOS).
  const dirs = [root, temporaryFolder].map((dir) => realpathSync(dir));
  const inside = (path: string) => dirs.some((dir) => path === dir || path.startsWith(`${dir}/`));
  for (const path of worktrees(root).filter(inside)) tree.set(`(git worktree) ${path}`, 'registered');
  return tree;
}

/** The paths of the registered worktrees of the repository at `root`; none if it is not a Git checkout. */
function worktrees(root: string): string[] {
  try {
    const listing = execFileSync('git', ['worktree', 'list', '--porcelain'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return listing.split('\n').filter((line) => line.startsWith('worktree ')).map((line) => line.slice('worktree '.length));
  } catch {
    return [];
  }
}

function report(title: string, lines: readonly string[]): string {
  const shown = lines.slice(0, REPORT_LIMIT).map((line) => `    ${line}`);
  if (lines.length > REPORT_LIMIT) shown.push(`    … and ${lines.length - REPORT_LIMIT} more`);
  return [`  ${title}:`, ...shown].join('\n');
}

/** Gives the run its own temporary folder; the returned teardown fails the run if anything was left behind. */
export default function setup(project: TestProject): () => void {
  const root = project.config.root;
  const saved = TEMP_VARIABLES.map((name) => [name, process.env[name]] as const);
  const folder = mkdtempSync(join(tmpdir(), 'driftless-test-run-'));
  for (const name of TEMP_VARIABLES) process.env[name] = folder;
  project.provide('runTemporaryFolder', folder);
  // In watch mode the developer edits the work tree while the run lasts, so only `vitest run` checks it.
  const checkWorkTree = !project.config.watch;
  const before = checkWorkTree ? workTree(root, folder) : new Map<string, string>();

  return () => {
    const problems: string[] = [];
    const leftovers = temporaryLeftovers(folder);
    if (leftovers.length > 0) problems.push(report(`in the temporary folder of the run (os.tmpdir() = ${folder})`, leftovers));
    if (checkWorkTree) {
      const changes = treeChanges(before, workTree(root, folder));
      if (changes.length > 0) problems.push(report(`in the work tree (${root})`, changes));
    }
    rmSync(folder, { recursive: true, force: true });
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    if (problems.length > 0) {
      // vitest logs an error thrown here but still exits 0, so set the exit code explicitly.
      process.exitCode = 1;
      throw new Error(
        ['The test run left things behind; make the test that created them clean up after itself.', ...problems].join('\n'),
      );
    }
  };
}
