-- Members must be profiles: customers with an identifier of a profile type (every
-- audience of the library answers that question, so the hand-written query does too).
SELECT a.profile_id
FROM (
  SELECT c.c_custkey AS profile_id
  FROM tpch.customer AS c
  WHERE c.c_acctbal > 8000
    AND NOT EXISTS (
      SELECT 1 FROM tpch.orders AS o
      WHERE o.o_custkey = c.c_custkey
        AND o.o_orderdate BETWEEN DATE '1996-08-03' AND DATE '1998-08-03'
    )
) AS a
WHERE a.profile_id IN (
  SELECT i.c_custkey FROM tpch.customer_identifiers AS i
  WHERE i.type IN ('user_id', 'email', 'android.idfa', 'ios.idfa') AND i.value IS NOT NULL
)
