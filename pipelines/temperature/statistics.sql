-- Mean, mode and number of readings per station and year, over every reading so far.
-- The mode is the most frequent temperature; on a tie the lowest wins, so that every run agrees.
WITH readings AS (
  SELECT station, year(measured_at) AS year, temperature
  FROM source
),
frequencies AS (
  SELECT station, year, temperature, count(*) AS occurrences
  FROM readings
  GROUP BY station, year, temperature
),
modes AS (
  SELECT station, year, temperature AS mode_temperature,
    row_number() OVER (PARTITION BY station, year ORDER BY occurrences DESC, temperature ASC) AS position
  FROM frequencies
),
totals AS (
  SELECT station, year, avg(temperature) AS mean_temperature, count(*) AS readings
  FROM readings
  GROUP BY station, year
)
SELECT totals.station, totals.year, totals.mean_temperature, modes.mode_temperature, totals.readings
FROM totals
JOIN modes ON modes.station = totals.station AND modes.year = totals.year AND modes.position = 1
