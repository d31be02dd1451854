import type { Pipeline } from './schema';

type FieldType = Pipeline['schema'][number]['type'];

// Type names that Spark SQL and DuckDB both accept.
const SQL_TYPES: Readonly<Record<FieldType, string>> = {
  string: 'STRING',
  integer: 'INT',
  double: 'DOUBLE',
  date: 'DATE',
  timestamp: 'TIMESTAMP',
};

// Spark and DuckDB disagree on lenient text: DuckDB casts '1.5' to the INT 2, '1_000' to 1000, '+-1' to the DOUBLE
// -1, '24:00:00' to midnight of the next day and ignores a '+02:00' offset; Spark casts '2024' to a DATE and applies
// offsets. Only text of one agreed shape reaches TRY_CAST, so both engines type (and reject) every record alike.
// Shapes: see pipelines/README.md. They are regular expressions that Java and RE2 read alike (no backslash, which
// the engines' string literals treat differently); the whole text must match, and Java's '$' also matches before a
// final line break, so the match is compared with the text.
const SHAPES: Readonly<Record<Exclude<FieldType, 'string'>, string>> = {
  integer: '^[+-]?[0-9]+$',
  double: '^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$',
  date: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
  // UTC only: a date, or date and time (hours 00 to 23) to the second with an optional fraction and an optional 'Z'.
  timestamp: '^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T]([01][0-9]|2[0-3]):[0-9]{2}:[0-9]{2}([.][0-9]*)?Z?)?$',
};

// The largest double: text beyond it ('1e400') casts to Infinity in both engines, which is no reading of anything.
const MAX_DOUBLE = '1.7976931348623157e308';

/** The typed value of a field: TRY_CAST of its trimmed text when the text has its type's shape, else NULL. */
function typed(name: string, type: FieldType): string {
  if (type === 'string') return `TRY_CAST(${textOf(name)} AS STRING)`;
  const trimmed = `trim(${textOf(name)})`;
  const cast = `TRY_CAST(${trimmed} AS ${SQL_TYPES[type]})`;
  const finite = type === 'double' ? ` AND abs(${cast}) <= ${MAX_DOUBLE}` : '';
  return `CASE WHEN regexp_extract(${trimmed}, '${SHAPES[type]}', 0) = ${trimmed}${finite} THEN ${cast} END`;
}

// The raw text keeps a prefix that no schema identifier (which starts with a letter) can take.
const textOf = (name: string) => `_text_${name}`;

// Numbers as SQL literals and in reasons: both engines read JavaScript's shortest form (-90, 0.5, 1e+21); the
// schema only admits finite numbers.
const literal = (n: number) => String(n);

/**
 * The SQL that turns raw records (view `raw`: every schema field as text, and `_record`) into typed records:
 * every field cast to its type, `_record`, and `reject_reason`, NULL for a valid record, else the first failing
 * check of: missing required field, malformed field, field out of range. Runs unchanged in Spark SQL and DuckDB.
 * @throws Error if a range is declared on a field that is not a number (nothing else could compare it).
 */
export function qualitySql(pipeline: Pipeline): string {
  const fields = pipeline.schema;
  const checks = [
    ...fields.filter((f) => pipeline.quality.required.includes(f.name)).map((f) => check(`${textOf(f.name)} IS NULL OR trim(${textOf(f.name)}) = ''`, `missing ${f.name}`)),
    // Blank text is a NULL value, not a malformed one: only a required field must be present.
    ...fields.filter((f) => f.type !== 'string').map((f) => check(`trim(${textOf(f.name)}) <> '' AND ${f.name} IS NULL`, `malformed ${f.name}: not ${ARTICLE[f.type]} ${f.type}`)),
    ...pipeline.quality.ranges.flatMap((range) => {
      const type = fields.find((f) => f.name === range.field)?.type;
      if (type !== 'integer' && type !== 'double') throw new Error(`pipeline '${pipeline.name}': quality range on '${range.field}' needs an integer or double field, it is ${type ?? 'not a field'}`);
      return [
        ...(range.min === undefined ? [] : [check(`${range.field} < ${literal(range.min)}`, `${range.field} below ${literal(range.min)}`)]),
        ...(range.max === undefined ? [] : [check(`${range.field} > ${literal(range.max)}`, `${range.field} above ${literal(range.max)}`)]),
      ];
    }),
  ];
  const names = fields.map((f) => f.name).join(', ');
  return [
    'WITH typed AS (',
    '  SELECT',
    ...fields.map((f) => `    ${typed(f.name, f.type)} AS ${f.name},`),
    ...fields.map((f) => `    ${textOf(f.name)},`),
    '    _record',
    `  FROM (SELECT ${fields.map((f) => `${f.name} AS ${textOf(f.name)}`).join(', ')}, _record FROM raw) AS texts`,
    ')',
    `SELECT ${names}, _record,`,
    ...(checks.length === 0 ? ['  CAST(NULL AS STRING) AS reject_reason'] : ['  CASE', ...checks.map((c) => `    ${c}`), '  END AS reject_reason']),
    'FROM typed',
  ].join('\n');
}

const ARTICLE: Readonly<Record<FieldType, string>> = { string: 'a', integer: 'an', double: 'a', date: 'a', timestamp: 'a' };
// Reasons hold identifiers and numbers only, so a plain literal is safe (and '' escapes differ between engines).
const check = (condition: string, reason: string) => `WHEN ${condition} THEN '${reason}'`;
