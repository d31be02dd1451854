-- Sales per store and day. Amounts are money: the total is rounded to cents, so that the order in which
-- Spark adds up the partitions cannot show in the result.
SELECT store_id, sale_date, round(sum(amount), 2) AS total_amount, count(*) AS transactions
FROM same_day
GROUP BY store_id, sale_date
