-- Members must be profiles: customers with an identifier of a profile type (every
-- audience of the library answers that question, so the hand-written query does too).
SELECT a.profile_id
FROM (
  SELECT c.c_custkey AS profile_id
  FROM tpch.customer AS c
  WHERE EXISTS (
    SELECT 1
    FROM tpch.orders AS o
    JOIN tpch.lineitem AS l ON l.l_orderkey = o.o_orderkey
    JOIN tpch.supplier AS s ON s.s_suppkey = l.l_suppkey
    WHERE o.o_custkey = c.c_custkey AND s.s_nationkey = c.c_nationkey
  )
) AS a
WHERE a.profile_id IN (
  SELECT i.c_custkey FROM tpch.customer_identifiers AS i
  WHERE i.type IN ('user_id', 'email', 'android.idfa', 'ios.idfa') AND i.value IS NOT NULL
)
