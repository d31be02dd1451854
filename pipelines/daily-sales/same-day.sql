-- A day's file may only hold that day's sales. The run overwrites every partition it writes, so a row of
-- another day would replace that day's totals with a fragment of them: such rows go to the errors instead.
SELECT source.transaction_id, source.store_id, source.sale_date, source.amount,
  CASE WHEN source.sale_date <> run.run_date THEN 'sale_date is not the day of the file' END AS reject_reason
FROM source CROSS JOIN run
