import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Testing } from 'cdktf';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureEnvironment } from '../scripts/fixtures/environments';
import { synthesizeStacks } from './synthesized-stacks';

// cdktf's Testing.app() makes its output folder in os.tmpdir(); pointing TMPDIR (which os.tmpdir() reads) at a
// folder of this test alone shows what a synthesis leaves there, whatever other test files do meanwhile.
const outer = tmpdir();
const saved = process.env.TMPDIR;
afterEach(() => {
  if (saved === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = saved;
});

function isolatedTemporaryFolder(): string {
  const folder = mkdtempSync(join(outer, 'driftless-synthesized-stacks-test-'));
  process.env.TMPDIR = folder;
  return folder;
}

describe('synthesizeStacks', () => {
  it('removes the temporary output folder that its Testing app makes', () => {
    const folder = isolatedTemporaryFolder();
    try {
      expect(synthesizeStacks(fixtureEnvironment('lab'), []).size).toBeGreaterThan(0);
      expect(readdirSync(folder)).toEqual([]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('sees the folder a bare Testing app leaves there, so the check above can fail', () => {
    const folder = isolatedTemporaryFolder();
    try {
      Testing.app();
      expect(readdirSync(folder)).toEqual([expect.stringMatching(/^cdktf\.outdir\./)]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
