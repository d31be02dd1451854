import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../environments/problem';
import { FIXTURE_PIPELINES_DIR, fixturePipelines } from '../scripts/fixtures/pipelines';
import { loadPipelines, PIPELINES_DIR, type LoadedPipeline } from './load';
import { sqlSubsetProblems } from './sql-subset';

// Queries in the subset that use most of it; DuckDB must run them too, or the subset promises too much.
const ACCEPTED = [
  `-- per store, with a comment; and a trailing semicolon
   WITH totals (store_id, total) AS (SELECT store_id, sum(amount) FROM sales GROUP BY store_id)
   SELECT store_id, CAST(total AS DECIMAL(10, 2)) AS total, 'store ' || store_id AS label,
     rank() OVER (ORDER BY total DESC) AS place
   FROM totals
   ORDER BY total DESC
   LIMIT 2;`,
  `/* window functions, CASE, subquery and IN */
   SELECT s.store_id, row_number() OVER (PARTITION BY s.store_id ORDER BY s.amount, s.id) AS n,
     CASE WHEN s.amount IS NULL THEN 'none' ELSE lower(trim(s.store_id)) END AS kind,
     coalesce(TRY_CAST(s.amount AS INT), 0) AS whole, round(abs(s.amount), 1) AS rounded,
     year(s.sold_at) AS y, month(s.sold_at) AS m, day(s.sold_at) AS d, date_trunc('hour', s.sold_at) AS h,
     count(DISTINCT s.id) OVER (PARTITION BY s.store_id) AS sales, min(s.amount) OVER () AS least, max(s.amount) OVER () AS most,
     avg(s.amount) OVER () AS mean, upper(s.store_id) AS shout, s.sample
   FROM sales AS s
   WHERE s.store_id IN (SELECT store_id FROM sales WHERE amount > 1.5e0) AND NOT EXISTS (SELECT id FROM sales WHERE id < 0)`,
];
const TABLE = `CREATE TABLE sales AS SELECT * FROM (VALUES (1, 's1', 2.5, TIMESTAMP '2024-05-01 10:00:00', 'x'), (2, 's2', 4.0, TIMESTAMP '2024-05-01 11:00:00', 'y')) AS t(id, store_id, amount, sold_at, sample)`;

/** Every SQL step of the pipelines in pipelines/ (however many there are) and of the fixture pipelines, with its folder. */
const STEPS = [
  ...stepsOf(await loadPipelines(), PIPELINES_DIR),
  ...stepsOf(await fixturePipelines(), FIXTURE_PIPELINES_DIR),
];

function stepsOf(pipelines: readonly LoadedPipeline[], dir: string): Array<readonly [string, string]> {
  return pipelines.flatMap((pipeline) => pipeline.steps.map((step) => [`${pipeline.name}/${step}`, join(dir, pipeline.name, step)] as const));
}

describe('sqlSubsetProblems', () => {
  it('accepts every SQL step of every pipeline and of every fixture pipeline', () => {
    // The fixture pipelines' steps at least, so that this never passes over nothing.
    expect(STEPS.length).toBeGreaterThan(0);
    for (const [step, path] of STEPS) expect(sqlSubsetProblems(readFileSync(path, 'utf8')), step).toEqual([]);
  });

  it('accepts queries that use the shared subset, and DuckDB runs them', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const db = await instance.connect();
    try {
      await db.run(TABLE);
      for (const sql of ACCEPTED) {
        expect(sqlSubsetProblems(sql)).toEqual([]);
        expect((await db.runAndReadAll(sql)).getRowObjectsJson().length).toBeGreaterThan(0);
      }
    } finally {
      db.closeSync();
      instance.closeSync();
    }
  });

  it.each([
    ['SELECT amount::INT FROM t', "'::' (line 1) is a cast that Spark does not know: write CAST(x AS type) or TRY_CAST(x AS type)"],
    ['SELECT "store_id" FROM t', '"store_id" (line 1) is an identifier in DuckDB but a string in Spark: use a plain lower-case name, and single quotes for text'],
    ['SELECT `store_id` FROM t', '`store_id` (line 1) quotes an identifier in Spark only: use a plain lower-case name'],
    ["SELECT 'it''s' FROM t", "'' inside a string literal (line 1) is a quote in DuckDB but ends the literal in Spark: keep quotes out of literals"],
    ["SELECT 'a\\b' FROM t", 'a backslash in a string literal (line 1) is an escape character in Spark but a plain character in DuckDB: keep backslashes out of literals'],
    ["SELECT 'open FROM t", "an unterminated string literal (line 1) must end with a closing '"],
    ['SELECT 10L FROM t', "'10L' (line 1) is a Spark typed literal (in DuckDB, 'L' would become a column alias): write CAST(10 AS type)"],
    ['SELECT a FROM t WHERE b = $1', "'$' (line 1) is not part of the shared SQL (no parameters, variables or other quoting)"],
    ['SELECT a -> 1 FROM t', "'->' (line 1) is DuckDB JSON or lambda syntax, not in the shared SQL"],
    ['SELECT a // 2 FROM t', "'//' (line 1) is DuckDB-only integer division: write CAST(a / b AS BIGINT)"],
    ['SELECT a ^ 2 FROM t', "'^' (line 1) is XOR in Spark but a power in DuckDB"],
    ['SELECT a FROM t WHERE a <=> b', "'<=>' (line 1) is Spark-only: write a IS NOT DISTINCT FROM b"],
    ['SELECT a, row_number() OVER (ORDER BY a) AS n FROM t QUALIFY n = 1', 'QUALIFY (line 1) is DuckDB-only: filter on the window function in an outer query'],
    ["SELECT a FROM t WHERE a ILIKE 'x%'", 'ILIKE (line 1) is not part of the shared SQL: compare lower(x) LIKE lower(pattern)'],
    ['SELECT * EXCLUDE (a) FROM t', 'EXCLUDE (line 1) is DuckDB-only: list the columns you keep'],
    ['SELECT a FROM t USING SAMPLE 10', 'USING SAMPLE (line 1) is DuckDB-only and not deterministic: steps must be deterministic'],
    ['SELECT a FROM t ASOF JOIN u ON t.a >= u.a', 'ASOF (line 1) joins are DuckDB-only: join on a range instead'],
    ['WITH RECURSIVE r AS (SELECT 1 AS n) SELECT n FROM r', 'RECURSIVE (line 1) CTEs are not in Spark 4.0'],
    ['SELECT a FROM t ORDER BY a FETCH FIRST 1 ROWS ONLY', 'FETCH (line 1) is not in Spark: write ORDER BY ... LIMIT n'],
    ["SELECT concat(a, 'x') FROM t", 'concat() (line 1) returns NULL in Spark but skips the NULL in DuckDB when an argument is NULL: write a || b, NULL in both'],
    ["SELECT regexp_matches(a, 'x') FROM t", 'regexp_matches() (line 1) is not a function that Spark and DuckDB share; use one of avg, sum, count, min, max, coalesce, cast, try_cast, date_trunc, year, month, day, lower, upper, trim, round, abs, row_number, rank (pipelines/README.md)'],
    ['SELECT a, row_number() AS n FROM t', 'row_number() (line 1) is a window function: follow it with OVER (PARTITION BY ... ORDER BY ...)'],
    ['SELECT a FROM t LIMIT 5', 'LIMIT without ORDER BY (line 1) keeps rows that differ between engines and runs: order the rows first'],
    ['SELECT a FROM (SELECT a FROM t ORDER BY a) AS s LIMIT 5', 'LIMIT without ORDER BY (line 1) keeps rows that differ between engines and runs: order the rows first'],
    ['FROM t SELECT a', "'FROM' (line 1) starts the step: a step is one query, starting with SELECT or WITH"],
    ['-- nothing but a comment\n', 'an empty step (line 1) must hold one SELECT or WITH query'],
    ['SELECT 1 AS a; SELECT 2 AS b', "';' (line 1) ends the query before the end of the file: a step holds exactly one query"],
    ['WITH x AS (SELECT 1 AS a) INSERT INTO t SELECT a FROM x', 'INSERT (line 1) changes data: a step is one query, whose result the runtime writes'],
  ])('rejects %s', (sql, message) => {
    expect(sqlSubsetProblems(sql)).toEqual([message]);
  });

  it('reports unbalanced parentheses, which only running the step would show', () => {
    expect(sqlSubsetProblems('SELECT round(sum(amount, 2) FROM source')).toEqual(["'(' (line 1) is never closed"]);
    expect(sqlSubsetProblems('SELECT sum(amount)) FROM source')).toEqual(["')' (line 1) closes a parenthesis that was never opened"]);
    expect(sqlSubsetProblems('SELECT round(sum(amount), 2) FROM source')).toEqual([]);
  });

  it('reports every problem, in line order, with its line', () => {
    const sql = ['SELECT', '  a::INT AS a,', "  /* a comment\n  over two lines */ regexp_matches(b, 'x') AS b", 'FROM t', 'QUALIFY a = 1'].join('\n');
    expect(sqlSubsetProblems(sql).map((p) => /\(line (\d+)\)/.exec(p)![1])).toEqual(['2', '4', '6']);
  });

  it('takes a word for a function only where it is called', () => {
    expect(sqlSubsetProblems('SELECT sample, position, count(*) AS n FROM t GROUP BY sample, position')).toEqual([]);
    expect(sqlSubsetProblems('SELECT replace(a, 1, 2) AS r FROM t')).toEqual([expect.stringMatching(/^replace\(\) \(line 1\) is not a function that Spark and DuckDB share/)]);
  });
});

const scratch = mkdtempSync(join(tmpdir(), 'driftless-sql-subset-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// A pipelines folder with the runtime and one pipeline whose steps are the given SQL files (as in load.test.ts).
function pipelinesDir(name: string, steps: Record<string, string>): string {
  const dir = join(scratch, name);
  mkdirSync(join(dir, 'runtime'), { recursive: true });
  writeFileSync(join(dir, 'runtime', 'driftless_runtime.py'), '# runtime\n');
  mkdirSync(join(dir, 'clicks'));
  const spec = {
    name: 'clicks',
    description: 'Sessions from clicks.',
    kind: 'streaming',
    triggerSeconds: 60,
    source: { type: 'kafka', topic: 'clicks', format: 'json' },
    schema: [{ name: 'user_id', type: 'string' }],
    quality: { required: ['user_id'], ranges: [] },
    steps: Object.keys(steps),
    state: { merge: {} },
    sink: { type: 's3', bucket: 'curated', prefix: 'sessions/' },
    rejects: { type: 'kafka', topic: 'clicks.dlq' },
    alerts: { staleAfterMinutes: 10 },
  };
  writeFileSync(join(dir, 'clicks', 'pipeline.ts'), `export const pipeline = ${JSON.stringify(spec)};`);
  for (const [file, sql] of Object.entries(steps)) writeFileSync(join(dir, 'clicks', file), sql);
  return dir;
}

describe('loadPipelines with SQL outside the subset', () => {
  it('reports each construct of each step file as a problem of its step', async () => {
    const dir = pipelinesDir('outside', { 'sessions.sql': 'SELECT user_id FROM source\n', 'count.sql': 'SELECT user_id::INT AS id\nFROM sessions\nLIMIT 3\n' });
    const problems = await loadPipelines(dir).then(
      () => [],
      (error: unknown) => (error instanceof ConfigError ? error.problems.map((p) => `${p.file} ${p.field} ${String(p.value)}: ${p.rule}`) : Promise.reject(error)),
    );
    expect(problems).toEqual([
      "pipelines/clicks/pipeline.ts steps.1 count.sql: '::' (line 1) is a cast that Spark does not know: write CAST(x AS type) or TRY_CAST(x AS type)",
      'pipelines/clicks/pipeline.ts steps.1 count.sql: LIMIT without ORDER BY (line 3) keeps rows that differ between engines and runs: order the rows first',
    ]);
  });

  it('loads a pipeline whose steps stay within the subset', async () => {
    const dir = pipelinesDir('inside', { 'sessions.sql': 'SELECT user_id, count(*) AS clicks FROM source GROUP BY user_id\n' });
    expect((await loadPipelines(dir)).map((p) => p.name)).toEqual(['clicks']);
  });
});
