-- One pass over orders: exactly one urgent order, at most 2 in the last 365 days. Customers
-- without any order have no urgent order, so they can never qualify.
-- Members must be profiles: customers with an identifier of a profile type (every
-- audience of the library answers that question, so the hand-written query does too).
SELECT a.profile_id
FROM (
  SELECT o_custkey AS profile_id
  FROM tpch.orders
  GROUP BY o_custkey
  HAVING count(*) FILTER (WHERE o_orderpriority = '1-URGENT') = 1
     AND count(*) FILTER (WHERE o_orderdate BETWEEN DATE '1997-08-03' AND DATE '1998-08-03') <= 2
) AS a
WHERE a.profile_id IN (
  SELECT i.c_custkey FROM tpch.customer_identifiers AS i
  WHERE i.type IN ('user_id', 'email', 'android.idfa', 'ios.idfa') AND i.value IS NOT NULL
)
