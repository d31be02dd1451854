/**
 * `npm run toolchain`: installs the pinned toolchain of the local engines, the real-engine tests and validate's
 * independent scanner (checkov) into the cache (downloading only what is missing, verifying every file; OpenTofu and
 * the providers built from source with Go), and prints where it is.
 * `npm run toolchain -- --lock`: re-resolves the pins after a version change (see lock.ts).
 */
import { parseCommandLine, runScript, UsageError, type ScriptOutput } from '../command-line';
import { lockToolchain } from './lock';
import { installToolchain } from './toolchain';

export async function main(args: readonly string[], io: ScriptOutput): Promise<number> {
  try {
    const options = parseCommandLine(args, { lock: { type: 'boolean', meaning: 're-resolve the pins' } });
    const started = Date.now();
    if (options['lock']) {
      await lockToolchain(io.err);
    } else {
      const toolchain = await installToolchain(io.err, undefined, { goTools: true });
      io.err(`toolchain ready in ${toolchain.cacheDir} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    }
    return 0;
  } catch (error) {
    // A missing runtime, a refused download or a checksum mismatch: the user's to fix, in one line.
    if (!(error instanceof Error) || process.env['DRIFTLESS_DEBUG'] === '1') throw error;
    io.err(`toolchain: ${error instanceof UsageError ? error.message : error.message.split('\n').join(' | ')}`);
    return 1;
  }
}

if (typeof require !== 'undefined' && require.main === module) runScript('toolchain', main);
