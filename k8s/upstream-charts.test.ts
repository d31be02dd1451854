import { describe, expect, it } from 'vitest';
import { chartFolder, coalesceValues } from './upstream-charts';

describe('coalesceValues', () => {
  it('merges maps key by key, with the user value winning', () => {
    expect(coalesceValues({ a: { b: 1 } }, { a: { b: 2, c: 3 }, d: 4 })).toEqual({ a: { b: 1, c: 3 }, d: 4 });
  });

  it('replaces lists instead of merging them', () => {
    expect(coalesceValues({ routes: [{ receiver: 'x' }] }, { routes: [{ receiver: 'null' }, { receiver: 'y' }] })).toEqual({ routes: [{ receiver: 'x' }] });
  });

  it("deletes a default key that the user sets to null, and keeps the map's other keys", () => {
    expect(coalesceValues({ limits: { cpu: null, memory: '1Gi' } }, { limits: { cpu: '1', memory: '384Mi' } })).toEqual({ limits: { memory: '1Gi' } });
  });
});

describe('chartFolder', () => {
  it('names the folder it expected when a chart version is not there', () => {
    expect(() => chartFolder({ chart: 'no-such-chart', version: '0.0.0' })).toThrow(/no-such-chart 0\.0\.0 is not at .*shared\/charts\/no-such-chart-0\.0\.0/);
  });
});
