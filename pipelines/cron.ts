/** The five fields of a cron expression, with their ranges (Kubernetes CronJob syntax, UTC). */
const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 6 },
] as const;

/**
 * Why `expression` is not a 5-field cron schedule, or undefined when it is. Accepts `*`, numbers,
 * ranges `a-b`, steps `/n` and comma lists: what Kubernetes and the spark-operator both understand.
 * Names (MON, JAN), macros (@daily) and seconds fields are refused so that the meaning is unambiguous.
 */
export function cronProblem(expression: string): string | undefined {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== FIELDS.length) {
    return `must be a cron schedule with 5 fields (${FIELDS.map((f) => f.name).join(', ')}), it has ${fields.length}`;
  }
  for (const [index, field] of fields.entries()) {
    const { name, min, max } = FIELDS[index]!;
    for (const part of field.split(',')) {
      const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
      if (!match) return `must be a cron schedule: the ${name} field '${field}' is not *, a number, a range or a step`;
      const values = [match[2], match[3]].filter((v): v is string => v !== undefined).map(Number);
      const outside = values.find((v) => v < min || v > max);
      if (outside !== undefined) return `must be a cron schedule: the ${name} ${outside} is outside ${min}-${max}`;
      if (values.length === 2 && values[0]! > values[1]!) return `must be a cron schedule: the ${name} range ${match[1]} runs backwards`;
      if (match[4] !== undefined && Number(match[4]) === 0) return `must be a cron schedule: the ${name} step cannot be 0`;
    }
  }
  return neverFires(fields);
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The values a valid cron field stands for. */
function expand(field: string, min: number, max: number): number[] {
  return [...new Set(field.split(',').flatMap((part) => {
    const [range, step = '1'] = part.split('/');
    const [from, to] = range === '*' ? [min, max] : range!.split('-').map(Number);
    const last = to ?? (part.includes('/') ? max : from!);
    const values: number[] = [];
    for (let v = from!; v <= last; v += Number(step)) values.push(v);
    return values;
  }))];
}

// A schedule for 30 February is valid syntax but never runs: a batch that silently never runs is worse than an error.
// When the day of week is restricted too, cron runs on either match, so the schedule does fire.
function neverFires(fields: readonly string[]): string | undefined {
  if (fields[4] !== '*') return undefined;
  const days = expand(fields[2]!, 1, 31);
  const months = expand(fields[3]!, 1, 12);
  const fires = months.some((month) => days.some((day) => day <= DAYS_IN_MONTH[month - 1]!));
  return fires ? undefined : `must be a cron schedule that fires: day ${days.join(',')} never occurs in month ${months.join(',')}`;
}
