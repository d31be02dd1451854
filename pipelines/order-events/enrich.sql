-- Each order with its restaurant's city; an order whose restaurant has no city is rejected with the reason.
-- One city per restaurant, even if the reference table lists a restaurant twice: an order must count once.
SELECT source.order_id, source.restaurant_id, source.amount, source.event_time, source.window_start, cities.city,
  CASE WHEN cities.city IS NULL THEN 'unknown restaurant ' || source.restaurant_id END AS reject_reason
FROM source
LEFT JOIN (
  SELECT restaurant_id, min(city) AS city
  FROM restaurants
  WHERE trim(city) <> ''
  GROUP BY restaurant_id
) AS cities ON cities.restaurant_id = source.restaurant_id
