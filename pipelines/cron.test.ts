import { describe, expect, it } from 'vitest';
import { fixturePipelines } from '../scripts/fixtures/pipelines';
import { cronProblem } from './cron';
import { loadPipelines } from './load';

/** The schedules of every batch pipeline in pipelines/ (however many) and of every fixture pipeline. */
const SCHEDULES = [...(await loadPipelines()), ...(await fixturePipelines())].flatMap((pipeline) =>
  pipeline.kind === 'batch' ? [[pipeline.name, pipeline.schedule] as const] : [],
);

describe('cronProblem', () => {
  it.each(['0 2 * * *', '*/15 * * * *', '0 0-6/2 1,15 * 1-5', '59 23 31 12 6', '0 0 29 2 *', '0 0 30 2 1'])('accepts %s', (expression) => {
    expect(cronProblem(expression)).toBeUndefined();
  });

  it.each([
    ['0 0 2 * * *', 'with 5 fields (minute, hour, day of month, month, day of week), it has 6'],
    ['0 2 * *', 'it has 4'],
    ['0 24 * * *', 'the hour 24 is outside 0-23'],
    ['60 2 * * *', 'the minute 60 is outside 0-59'],
    ['0 2 0 * *', 'the day of month 0 is outside 1-31'],
    ['0 2 * JAN *', "the month field 'JAN' is not *, a number, a range or a step"],
    ['@daily', 'it has 1'],
    ['0 5-2 * * *', 'the hour range 5-2 runs backwards'],
    ['*/0 * * * *', 'the minute step cannot be 0'],
    ['0 2 30 2 *', 'must be a cron schedule that fires: day 30 never occurs in month 2'],
    ['0 2 31 4,6,9,11 *', 'day 31 never occurs in month 4,6,9,11'],
  ])('rejects %s', (expression, problem) => {
    expect(cronProblem(expression)).toContain(problem);
  });

  it('accepts the schedule of every batch pipeline', () => {
    // The fixture batch pipeline at least, so that this never passes over nothing.
    expect(SCHEDULES.length).toBeGreaterThan(0);
    for (const [name, schedule] of SCHEDULES) {
      expect(schedule, name).toBeDefined();
      expect(cronProblem(schedule!), name).toBeUndefined();
    }
  });
});
