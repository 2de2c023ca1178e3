SELECT c.c_custkey AS profile_id
FROM tpch.customer AS c
WHERE EXISTS (
  SELECT 1
  FROM tpch.orders AS o
  JOIN tpch.lineitem AS l ON l.l_orderkey = o.o_orderkey
  JOIN tpch.supplier AS s ON s.s_suppkey = l.l_suppkey
  WHERE o.o_custkey = c.c_custkey AND s.s_nationkey = c.c_nationkey
)
