-- The state the stream keeps (state.merge sums occurrences): how often each temperature was read per station and
-- year. Mean, mode and count need nothing else, and it grows with the distinct temperatures, not with the readings.
SELECT station, year(measured_at) AS year, temperature, count(*) AS occurrences
FROM source
GROUP BY station, year(measured_at), temperature
