-- Members must be profiles: customers with an identifier of a profile type (every
-- audience of the library answers that question, so the hand-written query does too).
SELECT a.profile_id
FROM (
  SELECT DISTINCT o.o_custkey AS profile_id
  FROM tpch.orders AS o
  JOIN tpch.lineitem AS l ON l.l_orderkey = o.o_orderkey
  WHERE o.o_orderdate BETWEEN DATE '1997-08-03' AND DATE '1998-08-03'
    AND l.l_suppkey IN (
      SELECT s.s_suppkey
      FROM tpch.supplier AS s
      JOIN tpch.nation AS n ON n.n_nationkey = s.s_nationkey
      JOIN tpch.region AS r ON r.r_regionkey = n.n_regionkey
      WHERE r.r_name = 'EUROPE'
    )
) AS a
WHERE a.profile_id IN (
  SELECT i.c_custkey FROM tpch.customer_identifiers AS i
  WHERE i.type IN ('user_id', 'email', 'android.idfa', 'ios.idfa') AND i.value IS NOT NULL
)
