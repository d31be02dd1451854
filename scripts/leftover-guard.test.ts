import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { listTree, temporaryLeftovers, treeChanges } from './leftover-guard';

// The guard (vitest.config.ts's globalSetup) fails `npm test` when the run leaves anything behind. These tests
// show that its findings are complete and that the redirection it relies on reaches the tests.
const scratch = mkdtempSync(join(tmpdir(), 'driftless-leftover-guard-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const tsxCache = `tsx-${process.geteuid?.() ?? userInfo().username}`;

describe('the leftover guard', () => {
  it("gives every test the run's private temporary folder as os.tmpdir(), so that nothing a test leaves escapes it", () => {
    expect(inject('runTemporaryFolder')).toMatch(/driftless-test-run-/);
    expect(tmpdir()).toBe(inject('runTemporaryFolder'));
  });

  it('names every folder and file left in a temporary folder, except the tsx compile cache', () => {
    const folder = join(scratch, 'leaky');
    mkdirSync(join(folder, 'cdktf.outdir.AbC123', 'stacks'), { recursive: true });
    writeFileSync(join(folder, 'pipeline.duckdb'), '');
    mkdirSync(join(folder, tsxCache));
    writeFileSync(join(folder, tsxCache, '1234-abcdef'), '');
    expect(temporaryLeftovers(folder)).toEqual(['cdktf.outdir.AbC123/', 'cdktf.outdir.AbC123/stacks/', 'pipeline.duckdb']);
  });

  it('finds nothing in a temporary folder that holds only the tsx compile cache', () => {
    const folder = join(scratch, 'clean');
    mkdirSync(join(folder, tsxCache), { recursive: true });
    writeFileSync(join(folder, tsxCache, '1234-abcdef'), '');
    expect(temporaryLeftovers(folder)).toEqual([]);
  });

  it('reports what appeared, changed or disappeared in a work tree, and nothing where it was told not to look', () => {
    const tree = join(scratch, 'tree');
    mkdirSync(join(tree, 'k8s', 'rendered'), { recursive: true });
    mkdirSync(join(tree, 'node_modules'));
    writeFileSync(join(tree, 'k8s', 'rendered', 'same-size.yaml'), 'a');
    writeFileSync(join(tree, 'k8s', 'rendered', 'grown.yaml'), 'a');
    writeFileSync(join(tree, 'gone.ts'), '');
    const skip = (path: string) => path === 'node_modules';
    const before = listTree(tree, skip);
    expect(treeChanges(before, listTree(tree, skip))).toEqual([]);

    mkdirSync(join(tree, '.synth-x1'));
    symlinkSync('k8s', join(tree, 'link'));
    writeFileSync(join(tree, 'k8s', 'rendered', 'grown.yaml'), 'ab');
    // Same bytes, written later: a test rewrote the file in place.
    utimesSync(join(tree, 'k8s', 'rendered', 'same-size.yaml'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    rmSync(join(tree, 'gone.ts'));
    writeFileSync(join(tree, 'node_modules', 'cache.json'), '{}');
    expect(treeChanges(before, listTree(tree, skip))).toEqual([
      'new      .synth-x1/',
      'removed  gone.ts',
      'changed  k8s/rendered/grown.yaml',
      'changed  k8s/rendered/same-size.yaml',
      'new      link',
    ]);
  });
});
