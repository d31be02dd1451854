-- Orders and amounts per city and minute (window_start: the minute of event_time, set by the runtime).
-- Amounts are money: the total is rounded to cents, so that the order of addition cannot show.
SELECT window_start, city, count(*) AS orders, round(sum(amount), 2) AS total_amount
FROM enrich
GROUP BY window_start, city
