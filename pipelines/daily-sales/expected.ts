/** The rejects of fixtures/sales_20240501.csv, worked out by hand: the logic test (DuckDB) and the engine test (Spark) expect them alike. */
export const FIXTURE_REJECTS = [
  { record: 't5,,2024-05-01,3.00', reason: 'missing store_id' },
  { record: 't6,s2,2024-05-01,', reason: 'missing amount' },
  { record: 't7,s2,2024-05-01,12,50', reason: 'malformed CSV line' },
  { record: 't8,s2,2024-05-01,twelve', reason: 'malformed amount: not a double' },
  { record: 't9,s2,05/01/2024,12', reason: 'malformed sale_date: not a date' },
  { record: 't10,s3,2024-05-01', reason: 'malformed CSV line' },
  { record: '"t11","s2","2024-05-01","1,000.00"', reason: 'malformed amount: not a double' },
  { record: '"t14,s1,2024-05-01,1', reason: 'malformed CSV line' },
  { record: 't15,s1,,1', reason: 'missing sale_date' },
] as const;
