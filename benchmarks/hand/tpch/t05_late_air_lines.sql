-- Members must be profiles: customers with an identifier of a profile type (every
-- audience of the library answers that question, so the hand-written query does too).
SELECT a.profile_id
FROM (
  SELECT DISTINCT o.o_custkey AS profile_id
  FROM tpch.orders AS o
  JOIN (
    SELECT l_orderkey
    FROM tpch.lineitem
    WHERE l_shipmode = 'AIR' AND l_receiptdate > l_commitdate
    GROUP BY l_orderkey
    HAVING count(*) >= 2
  ) AS late ON late.l_orderkey = o.o_orderkey
  WHERE o.o_orderdate > DATE '1996-12-31'
) AS a
WHERE a.profile_id IN (
  SELECT i.c_custkey FROM tpch.customer_identifiers AS i
  WHERE i.type IN ('user_id', 'email', 'android.idfa', 'ios.idfa') AND i.value IS NOT NULL
)
