import type { Pipeline } from './schema';

/**
 * The SQL that turns raw records (view `raw`, every field as text) into typed records with a
 * `reject_reason` (NULL when the record is valid). Placeholder: being written.
 */
export function qualitySql(pipeline: Pipeline): string {
  return `SELECT ${pipeline.schema.map((f) => f.name).join(', ')}, CAST(NULL AS STRING) AS reject_reason FROM raw`;
}
