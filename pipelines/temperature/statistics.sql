-- Mean, mode and number of readings per station and year, from the frequencies kept for that station and year.
-- The mode is the most frequent temperature; on a tie the lowest wins, so that every run agrees.
-- The mean is exact: each temperature in whole thousandths of a degree (readings have at most three decimals),
-- summed as integers and divided once, so it is the double nearest to the true mean in any engine, whatever the
-- order the readings came in. A sum of doubles would depend on that order, and DECIMAL division rounds differently
-- in Spark (to 6 places first) and DuckDB (in DOUBLE).
WITH modes AS (
  SELECT station, year, temperature AS mode_temperature,
    row_number() OVER (PARTITION BY station, year ORDER BY occurrences DESC, temperature ASC) AS position
  FROM frequencies
),
totals AS (
  SELECT station, year,
    CAST(sum(CAST(CAST(temperature AS DECIMAL(6, 3)) * 1000 AS BIGINT) * occurrences) AS BIGINT) AS thousandths,
    CAST(sum(occurrences) AS BIGINT) AS readings
  FROM frequencies
  GROUP BY station, year
)
SELECT totals.station, totals.year, totals.thousandths / (totals.readings * 1000) AS mean_temperature,
  modes.mode_temperature, totals.readings
FROM totals
JOIN modes ON modes.station = totals.station AND modes.year = totals.year AND modes.position = 1
