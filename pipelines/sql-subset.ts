/**
 * The SQL that a pipeline step may use: the part of the language that Spark SQL 4.0 (which runs it on the
 * cluster) and DuckDB (which runs it in the logic tests) both parse and evaluate alike. A step that passes
 * here can still be wrong, but not in a way that only the cluster would show.
 */

/** Functions that both engines implement with the same result, NULL handling included. */
export const SHARED_FUNCTIONS: readonly string[] = [
  'avg', 'sum', 'count', 'min', 'max',
  'coalesce', 'cast', 'try_cast',
  'date_trunc', 'year', 'month', 'day',
  'lower', 'upper', 'trim', 'round', 'abs',
  'row_number', 'rank',
];

// Window functions that mean nothing without an OVER clause (Spark refuses them, DuckDB too, but later).
const WINDOW_ONLY = new Set(['row_number', 'rank']);

// Functions that both engines know but evaluate differently: the allow-list would hide the reason.
const DIVERGENT_FUNCTIONS: Readonly<Record<string, string>> = {
  concat: "returns NULL in Spark but skips the NULL in DuckDB when an argument is NULL: write a || b, NULL in both",
};

const NOT_A_QUERY = 'changes data: a step is one query, whose result the runtime writes';
const DENIED_WORDS: Readonly<Record<string, string>> = {
  QUALIFY: 'is DuckDB-only: filter on the window function in an outer query',
  ILIKE: 'is not part of the shared SQL: compare lower(x) LIKE lower(pattern)',
  EXCLUDE: "is DuckDB-only: list the columns you keep",
  PIVOT: 'has a different syntax in Spark and DuckDB: aggregate with CASE WHEN instead',
  UNPIVOT: 'has a different syntax in Spark and DuckDB: use UNION ALL instead',
  LATERAL: 'joins and views differ between Spark and DuckDB: join a subquery instead',
  TABLESAMPLE: 'samples differently in each engine and each run: steps must be deterministic',
  ASOF: 'joins are DuckDB-only: join on a range instead',
  POSITIONAL: 'joins are DuckDB-only: join on a key instead',
  RECURSIVE: 'CTEs are not in Spark 4.0',
  FETCH: 'is not in Spark: write ORDER BY ... LIMIT n',
  ...Object.fromEntries(
    ['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'CREATE', 'DROP', 'ALTER', 'TRUNCATE'].map((w) => [w, NOT_A_QUERY]),
  ),
};

const DENIED_OPERATORS: Readonly<Record<string, string>> = {
  '::': 'is a cast that Spark does not know: write CAST(x AS type) or TRY_CAST(x AS type)',
  '->': 'is DuckDB JSON or lambda syntax, not in the shared SQL',
  '->>': 'is DuckDB JSON syntax, not in the shared SQL',
  '**': 'is DuckDB-only exponentiation',
  '//': 'is DuckDB-only integer division: write CAST(a / b AS BIGINT)',
  '<=>': 'is Spark-only: write a IS NOT DISTINCT FROM b',
  '^': 'is XOR in Spark but a power in DuckDB',
  '~': 'is a bitwise NOT in Spark but a regular-expression match in DuckDB',
  '!~': 'is DuckDB-only regular-expression syntax',
};

// Keywords after which '(' opens a subquery, a list or a clause, not a function's arguments.
const KEYWORDS_BEFORE_PAREN = new Set([
  'AS', 'IN', 'EXISTS', 'OVER', 'FROM', 'JOIN', 'ON', 'AND', 'OR', 'NOT', 'WHERE', 'SELECT', 'USING', 'BY',
  'THEN', 'ELSE', 'WHEN', 'CASE', 'UNION', 'ALL', 'DISTINCT', 'INTERSECT', 'EXCEPT', 'FILTER', 'HAVING', 'VALUES',
  'WITH', 'LIKE', 'BETWEEN', 'IS', 'END', 'ANY', 'SOME', 'LIMIT',
]);

// Longest first, so that '->>' is not read as '->' and '>'.
const OPERATORS = ['->>', '<=>', '::', '->', '**', '//', '!=', '<>', '<=', '>=', '==', '||', '!~', '(', ')', ',', '.', ';', '+', '-', '*', '/', '%', '=', '<', '>', '^', '~', '|', '&', '!'];

interface Token {
  readonly kind: 'word' | 'number' | 'string' | 'operator';
  readonly text: string;
  readonly line: number;
}

type Report = (construct: string, line: number, rule: string) => void;

/**
 * Problems that keep a step's SQL from running alike in Spark SQL and DuckDB, one message per construct,
 * naming it, its line and the rule (with how to write it instead). Empty when the SQL is in the shared subset.
 */
export function sqlSubsetProblems(sql: string): string[] {
  const problems: Array<{ line: number; message: string }> = [];
  const report: Report = (construct, line, rule) => problems.push({ line, message: `${construct} (line ${line}) ${rule}` });
  const tokens = tokenize(sql, report);
  checkStatement(tokens, report);
  checkWords(tokens, report);
  checkFunctions(tokens, report);
  checkLimits(tokens, report);
  return problems.sort((a, b) => a.line - b.line).map((p) => p.message);
}

function tokenize(sql: string, report: Report): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  const take = (kind: Token['kind'], text: string) => tokens.push({ kind, text, line });
  while (i < sql.length) {
    const c = sql[i]!;
    const rest = sql.slice(i);
    if (c === '\n') line++;
    if (/\s/.test(c)) {
      i++;
    } else if (rest.startsWith('--')) {
      i = endOf(sql, '\n', i);
    } else if (rest.startsWith('/*')) {
      const end = sql.indexOf('*/', i + 2);
      const close = end < 0 ? sql.length : end + 2;
      line += countLines(sql.slice(i, close));
      i = close;
    } else if (c === "'") {
      const start = line;
      let j = i + 1;
      let doubled = false;
      let backslash = false;
      for (; j < sql.length; j++) {
        if (sql[j] === "'" && sql[j + 1] !== "'") break;
        if (sql[j] === "'") {
          doubled = true;
          j++;
        } else if (sql[j] === '\\') backslash = true;
        else if (sql[j] === '\n') line++;
      }
      // DuckDB reads '' inside a literal as a quote; Spark ends the literal there and concatenates the next one.
      if (doubled) report("'' inside a string literal", start, 'is a quote in DuckDB but ends the literal in Spark: keep quotes out of literals');
      if (backslash) report('a backslash in a string literal', start, 'is an escape character in Spark but a plain character in DuckDB: keep backslashes out of literals');
      if (j >= sql.length) report('an unterminated string literal', start, "must end with a closing '");
      tokens.push({ kind: 'string', text: sql.slice(i, j + 1), line: start });
      i = j + 1;
    } else if (c === '"' || c === '`') {
      const end = endOf(sql, c, i + 1);
      const quoted = sql.slice(i, end + 1);
      report(
        quoted,
        line,
        c === '"'
          ? 'is an identifier in DuckDB but a string in Spark: use a plain lower-case name, and single quotes for text'
          : 'quotes an identifier in Spark only: use a plain lower-case name',
      );
      take('word', quoted.slice(1, -1));
      line += countLines(quoted);
      i = end + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest)![0];
      take('word', word);
      i += word.length;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      const number = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(rest)![0];
      const suffix = /^[A-Za-z_]\w*/.exec(sql.slice(i + number.length))?.[0];
      if (suffix !== undefined) {
        report(`'${number}${suffix}'`, line, `is a Spark typed literal (in DuckDB, '${suffix}' would become a column alias): write CAST(${number} AS type)`);
      }
      take('number', number);
      i += number.length + (suffix?.length ?? 0);
    } else {
      const operator = OPERATORS.find((o) => rest.startsWith(o));
      if (operator === undefined) {
        report(`'${c}'`, line, 'is not part of the shared SQL (no parameters, variables or other quoting)');
        i++;
      } else {
        if (DENIED_OPERATORS[operator] !== undefined) report(`'${operator}'`, line, DENIED_OPERATORS[operator]!);
        take('operator', operator);
        i += operator.length;
      }
    }
  }
  return tokens;
}

const endOf = (sql: string, char: string, from: number) => {
  const at = sql.indexOf(char, from);
  return at < 0 ? sql.length : at;
};
const countLines = (text: string) => text.split('\n').length - 1;
const upper = (t: Token | undefined) => (t?.kind === 'word' ? t.text.toUpperCase() : undefined);

function checkStatement(tokens: readonly Token[], report: Report): void {
  const first = tokens[0];
  if (first === undefined) {
    report('an empty step', 1, 'must hold one SELECT or WITH query');
    return;
  }
  if (upper(first) !== 'SELECT' && upper(first) !== 'WITH') {
    report(`'${first.text}'`, first.line, 'starts the step: a step is one query, starting with SELECT or WITH');
  }
  tokens.forEach((token, index) => {
    if (token.text === ';' && token.kind === 'operator' && index !== tokens.length - 1) {
      report("';'", token.line, 'ends the query before the end of the file: a step holds exactly one query');
    }
  });
  // The engines report unbalanced parentheses only when they run the step; the cluster would be the first to see it.
  const open: Token[] = [];
  for (const token of tokens.filter((t) => t.kind === 'operator' && (t.text === '(' || t.text === ')'))) {
    if (token.text === '(') open.push(token);
    else if (open.pop() === undefined) report("')'", token.line, "closes a parenthesis that was never opened");
  }
  for (const token of open) report("'('", token.line, 'is never closed');
}

function checkWords(tokens: readonly Token[], report: Report): void {
  tokens.forEach((token, index) => {
    const word = upper(token);
    if (word !== undefined && DENIED_WORDS[word] !== undefined) report(word, token.line, DENIED_WORDS[word]!);
    // SAMPLE alone may be a column name; after USING it is DuckDB's sampling clause.
    if (word === 'SAMPLE' && upper(tokens[index - 1]) === 'USING') report('USING SAMPLE', token.line, 'is DuckDB-only and not deterministic: steps must be deterministic');
  });
}

/** Index of the ')' that closes the '(' at `open`, or the end. */
function closing(tokens: readonly Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    if (tokens[i]!.kind !== 'operator') continue;
    if (tokens[i]!.text === '(') depth++;
    if (tokens[i]!.text === ')' && --depth === 0) return i;
  }
  return tokens.length;
}

function checkFunctions(tokens: readonly Token[], report: Report): void {
  tokens.forEach((token, index) => {
    const next = tokens[index + 1];
    if (token.kind !== 'word' || next?.kind !== 'operator' || next.text !== '(') return;
    const previous = upper(tokens[index - 1]);
    if (KEYWORDS_BEFORE_PAREN.has(token.text.toUpperCase()) || DENIED_WORDS[token.text.toUpperCase()] !== undefined) return;
    // `AS name (a, b)` names a subquery's columns and `AS DECIMAL(10, 2)` is a cast's type; `name (a, b) AS (...)` a CTE's.
    const after = closing(tokens, index + 1);
    if (previous === 'AS' || (upper(tokens[after + 1]) === 'AS' && tokens[after + 2]?.text === '(')) return;
    const name = token.text.toLowerCase();
    if (DIVERGENT_FUNCTIONS[name] !== undefined) {
      report(`${name}()`, token.line, DIVERGENT_FUNCTIONS[name]!);
    } else if (!SHARED_FUNCTIONS.includes(name)) {
      report(`${name}()`, token.line, `is not a function that Spark and DuckDB share; use one of ${SHARED_FUNCTIONS.join(', ')} (pipelines/README.md)`);
    } else if (WINDOW_ONLY.has(name) && upper(tokens[after + 1]) !== 'OVER') {
      report(`${name}()`, token.line, 'is a window function: follow it with OVER (PARTITION BY ... ORDER BY ...)');
    }
  });
}

// Which rows LIMIT keeps is up to the engine (and the run) unless the query orders them first.
function checkLimits(tokens: readonly Token[], report: Report): void {
  const ordered: boolean[] = [false];
  let depth = 0;
  tokens.forEach((token, index) => {
    if (token.kind === 'operator' && token.text === '(') ordered[++depth] = false;
    if (token.kind === 'operator' && token.text === ')') depth = Math.max(0, depth - 1);
    const word = upper(token);
    if (word === 'SELECT') ordered[depth] = false;
    if (word === 'ORDER' && upper(tokens[index + 1]) === 'BY') ordered[depth] = true;
    if (word === 'LIMIT' && !ordered[depth]) {
      report('LIMIT without ORDER BY', token.line, 'keeps rows that differ between engines and runs: order the rows first');
    }
  });
}
