-- Members must be profiles: customers with an identifier of a profile type (every
-- audience of the library answers that question, so the hand-written query does too).
SELECT a.profile_id
FROM (
  SELECT DISTINCT o.o_custkey AS profile_id
  FROM tpch.orders AS o
  WHERE o.o_orderdate BETWEEN DATE '1998-02-04' AND DATE '1998-08-03'
    AND NOT EXISTS (
      SELECT 1 FROM tpch.lineitem AS l
      WHERE l.l_orderkey = o.o_orderkey AND l.l_receiptdate > l.l_commitdate
    )
) AS a
WHERE a.profile_id IN (
  SELECT i.c_custkey FROM tpch.customer_identifiers AS i
  WHERE i.type IN ('user_id', 'email', 'android.idfa', 'ios.idfa') AND i.value IS NOT NULL
)
