-- Members must be profiles: customers with an identifier of a profile type (every
-- audience of the library answers that question, so the hand-written query does too).
SELECT a.profile_id
FROM (
  SELECT o.o_custkey AS profile_id
  FROM tpch.orders AS o
  JOIN tpch.lineitem AS l ON l.l_orderkey = o.o_orderkey
  WHERE l.l_returnflag = 'R'
    AND l.l_partkey IN (SELECT p_partkey FROM tpch.part WHERE p_type LIKE '%BRASS' AND p_size >= 45)
  UNION
  SELECT o.o_custkey
  FROM tpch.orders AS o
  JOIN tpch.lineitem AS l ON l.l_orderkey = o.o_orderkey
  WHERE l.l_shipdate > DATE '1997-12-31'
    AND l.l_suppkey IN (
      SELECT s.s_suppkey
      FROM tpch.supplier AS s
      JOIN tpch.nation AS n ON n.n_nationkey = s.s_nationkey
      WHERE n.n_name = 'GERMANY'
    )
) AS a
WHERE a.profile_id IN (
  SELECT i.c_custkey FROM tpch.customer_identifiers AS i
  WHERE i.type IN ('user_id', 'email', 'android.idfa', 'ios.idfa') AND i.value IS NOT NULL
)
