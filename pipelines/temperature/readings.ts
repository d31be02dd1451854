/**
 * Readings for the temperature pipeline's real-engine test and for `npm run bench`: deterministic, one decimal, 40
 * stations over five years, every 997th reading bad in one of three ways (it goes to the dead letters, counts nowhere).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const STATIONS = 40;
const FIRST_YEAR = 2021;
const YEARS = 5;
const BAD_EVERY = 997;

/** A small deterministic generator (mulberry32): the same readings on every run, no dependency. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Statistics {
  tenths: number;
  readings: number;
  frequencies: Map<number, number>;
}

/**
 * Writes generated readings as CSV files (one per part, in the order given) and returns the statistics they must give
 * per `station|year`: the count, the sum in tenths of a degree and how often each temperature occurs.
 */
export function generateReadings(dir: string, parts: readonly number[]): { files: string[]; expected: Map<string, Statistics>; bad: number } {
  const next = random(20_240_501);
  const expected = new Map<string, Statistics>();
  const files: string[] = [];
  let bad = 0;
  let index = 0;
  parts.forEach((count, part) => {
    const lines = ['station,measured_at,temperature'];
    for (let i = 0; i < count; i++, index++) {
      const station = `ST-${String(Math.floor(next() * STATIONS)).padStart(3, '0')}`;
      const year = FIRST_YEAR + Math.floor(next() * YEARS);
      const second = Math.floor(next() * 365 * 86_400);
      const measuredAt = new Date(Date.UTC(year, 0, 1) + second * 1000).toISOString().replace('.000Z', 'Z');
      // One decimal, from -25.0 to 44.9, with a bump around 12 degrees so that modes are not ties of noise.
      const tenths = next() < 0.3 ? 100 + Math.floor(next() * 40) : -250 + Math.floor(next() * 700);
      if (index % BAD_EVERY === 0) {
        bad++;
        const kind = (index / BAD_EVERY) % 3;
        lines.push(kind === 0 ? `${station},${measuredAt},` : kind === 1 ? `${station},${measuredAt},75.5` : `${station},not-a-time,${(tenths / 10).toFixed(1)}`);
        continue;
      }
      lines.push(`${station},${measuredAt},${(tenths / 10).toFixed(1)}`);
      const key = `${station}|${year}`;
      const stats = expected.get(key) ?? { tenths: 0, readings: 0, frequencies: new Map<number, number>() };
      stats.tenths += tenths;
      stats.readings += 1;
      stats.frequencies.set(tenths, (stats.frequencies.get(tenths) ?? 0) + 1);
      expected.set(key, stats);
    }
    const file = join(dir, `readings-${part + 1}.csv`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    files.push(file);
  });
  return { files, expected, bad };
}

